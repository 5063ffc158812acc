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

		replies := map[string]string{}
		for len(replies) < 4 {
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
