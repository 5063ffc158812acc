package core

// A publish pipelined right behind $JS.API.STREAM.CREATE on the same
// connection (one write, no wait for the API reply) must be stored: the
// stream's subjects are bound before the next message of that connection is
// routed (nats-server 2.9.10 stores it too).

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// Reads MSGs until `want` distinct reply subjects were answered: subject ->
// payload. A status message (no responders: the stream was not bound yet)
// fails the test.
func readReplies(t *testing.T, rc *rawConn, want int) map[string]string {
	t.Helper()
	replies := map[string]string{}
	for len(replies) < want {
		line := rc.line()
		switch {
		case line == "PONG" || line == "PING":
			continue
		case strings.HasPrefix(line, "HMSG "):
			t.Fatalf("status instead of a reply (no stream bound yet?): %q", line)
		case strings.HasPrefix(line, "MSG "):
			f := strings.Fields(line)
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				t.Fatalf("bad MSG line %q", line)
			}
			replies[f[1]] = string(rc.payload(n))
		default:
			t.Fatalf("unexpected %q", line)
		}
	}
	return replies
}

func TestJetStreamStreamCreatePipelinedWithPublish(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		rc := rawConnect(t, s)
		create := `{"name":"PIPE","subjects":["pipe.>"],"storage":"file"}`
		var b strings.Builder
		b.WriteString("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1}\r\n")
		b.WriteString("SUB _INBOX.pipe.* 1\r\n")
		fmt.Fprintf(&b, "PUB $JS.API.STREAM.CREATE.PIPE _INBOX.pipe.create %d\r\n%s\r\n", len(create), create)
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(&b, "PUB pipe.a _INBOX.pipe.p%d 2\r\nhi\r\n", i)
		}
		b.WriteString("PING\r\n")
		rc.send(b.String()) // one write: CREATE and the publishes arrive together

		replies := readReplies(t, rc, 4)
		if r := replies["_INBOX.pipe.create"]; !strings.Contains(r, `"did_create":true`) && !strings.Contains(r, `"config"`) {
			t.Fatalf("create reply: %s", r)
		}
		for i := 1; i <= 3; i++ {
			ack := replies[fmt.Sprintf("_INBOX.pipe.p%d", i)]
			if strings.Contains(ack, `"error"`) || !strings.Contains(ack, `"stream":"PIPE"`) ||
				!strings.Contains(ack, fmt.Sprintf(`"seq":%d`, i)) {
				t.Fatalf("publish %d: PubAck %s", i, ack)
			}
		}
	})
}

// Two creates in one write, each followed by publishes to its subjects, and
// more input than one read batch holds: every publish is stored in its
// stream, in order, and the connection goes on afterwards.
func TestJetStreamTwoStreamCreatesPipelinedWithPublishes(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		rc := rawConnect(t, s)
		var b strings.Builder
		b.WriteString("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1}\r\n")
		b.WriteString("SUB _INBOX.pipe.* 1\r\n")
		const perStream = 300
		body := strings.Repeat("x", 512)
		for _, name := range []string{"ONE", "TWO"} {
			create := fmt.Sprintf(`{"name":"%s","subjects":["%s.>"],"storage":"file"}`, name, strings.ToLower(name))
			fmt.Fprintf(&b, "PUB $JS.API.STREAM.CREATE.%s _INBOX.pipe.create%s %d\r\n%s\r\n", name, name, len(create), create)
			for i := 1; i <= perStream; i++ {
				fmt.Fprintf(&b, "PUB %s.a _INBOX.pipe.%s%d %d\r\n%s\r\n", strings.ToLower(name), name, i, len(body), body)
			}
		}
		b.WriteString("PING\r\n")
		rc.send(b.String())

		replies := readReplies(t, rc, 2+2*perStream)
		for _, name := range []string{"ONE", "TWO"} {
			for i := 1; i <= perStream; i++ {
				ack := replies[fmt.Sprintf("_INBOX.pipe.%s%d", name, i)]
				if strings.Contains(ack, `"error"`) || !strings.Contains(ack, fmt.Sprintf(`"stream":"%s"`, name)) ||
					!strings.Contains(ack, fmt.Sprintf(`"seq":%d`, i)) {
					t.Fatalf("%s publish %d: PubAck %s", name, i, ack)
				}
			}
		}
		// The connection still works after the holds.
		rc.send("PUB one.b _INBOX.pipe.after 2\r\nok\r\n")
		for {
			line := rc.line()
			if strings.HasPrefix(line, "MSG _INBOX.pipe.after ") {
				f := strings.Fields(line)
				n, _ := strconv.Atoi(f[len(f)-1])
				if ack := string(rc.payload(n)); !strings.Contains(ack, fmt.Sprintf(`"seq":%d`, perStream+1)) {
					t.Fatalf("after: PubAck %s", ack)
				}
				break
			}
		}
	})
}
