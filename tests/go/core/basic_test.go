package core

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

const msgWait = 10 * time.Second

func next(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(msgWait)
	if err != nil {
		t.Fatalf("NextMsg on %q: %v", sub.Subject, err)
	}
	return m
}

func flush(t *testing.T, ncs ...*nats.Conn) {
	t.Helper()
	for _, nc := range ncs {
		if err := nc.FlushTimeout(msgWait); err != nil {
			t.Fatalf("flush: %v", err)
		}
	}
}

func TestConnect(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		nc := connect(t, s)
		v := nc.ConnectedServerVersion()
		if v == "" {
			t.Fatal("ConnectedServerVersion is empty")
		}
		if im.version != "" && v != im.version {
			t.Errorf("ConnectedServerVersion = %q, want %q", v, im.version)
		}
		if !nc.HeadersSupported() {
			t.Error("HeadersSupported() = false")
		}
		if nc.ConnectedServerId() == "" {
			t.Error("ConnectedServerId is empty")
		}
		if nc.MaxPayload() != 1048576 {
			t.Errorf("MaxPayload = %d, want the default 1048576", nc.MaxPayload())
		}
		if !nc.IsConnected() {
			t.Error("not connected")
		}
	})
}

func TestPubSub(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		sc := connect(t, s)
		pc := connect(t, s)
		sub, err := sc.SubscribeSync("greet.hello")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, sc)
		if err := pc.Publish("greet.hello", []byte("hi there")); err != nil {
			t.Fatal(err)
		}
		if err := pc.PublishMsg(&nats.Msg{Subject: "greet.hello", Reply: "reply.to", Data: []byte("2nd")}); err != nil {
			t.Fatal(err)
		}
		if err := pc.Publish("greet.hello", nil); err != nil {
			t.Fatal(err)
		}
		pc.Publish("greet.other", []byte("not for us"))
		flush(t, pc)

		m := next(t, sub)
		if m.Subject != "greet.hello" || string(m.Data) != "hi there" || m.Reply != "" {
			t.Errorf("got %q %q reply %q", m.Subject, m.Data, m.Reply)
		}
		m = next(t, sub)
		if string(m.Data) != "2nd" || m.Reply != "reply.to" {
			t.Errorf("got %q reply %q", m.Data, m.Reply)
		}
		m = next(t, sub)
		if len(m.Data) != 0 {
			t.Errorf("empty payload arrived as %q", m.Data)
		}
		// Every message the server sent before the flush's PONG has arrived.
		flush(t, sc)
		if n, _, _ := sub.Pending(); n != 0 {
			t.Errorf("%d unexpected extra messages", n)
		}
		// A subscription on the publisher's own connection gets its own messages.
		self, _ := pc.SubscribeSync("self.>")
		pc.Publish("self.x", []byte("me"))
		if m := next(t, self); string(m.Data) != "me" {
			t.Errorf("self delivery %q", m.Data)
		}
		// Two subscriptions of one connection on the same subject: one copy each.
		a, _ := sc.SubscribeSync("dup")
		b, _ := sc.SubscribeSync("dup")
		flush(t, sc)
		pc.Publish("dup", []byte("x"))
		flush(t, pc)
		next(t, a)
		next(t, b)
		flush(t, sc)
		if na, _, _ := a.Pending(); na != 0 {
			t.Errorf("sub a: %d extra", na)
		}
		if nb, _, _ := b.Pending(); nb != 0 {
			t.Errorf("sub b: %d extra", nb)
		}
	})
}

func TestWildcards(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		sc := connect(t, s)
		pc := connect(t, s)
		patterns := []string{"foo.*", "foo.>", "foo.*.baz", "*.bar", ">", "foo.bar", "*", "*.*.*"}
		subs := map[string]*nats.Subscription{}
		for _, p := range patterns {
			sub, err := sc.SubscribeSync(p)
			if err != nil {
				t.Fatal(err)
			}
			subs[p] = sub
		}
		flush(t, sc)
		published := []string{"foo", "foo.bar", "foo.bar.baz", "foo.x.baz", "bar.bar", "foo.bar.qux", "a.b.c.d", "foox.bar"}
		for _, subj := range published {
			if err := pc.Publish(subj, []byte(subj)); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, pc)
		flush(t, sc)
		want := map[string][]string{
			"foo.*":     {"foo.bar"},
			"foo.>":     {"foo.bar", "foo.bar.baz", "foo.x.baz", "foo.bar.qux"},
			"foo.*.baz": {"foo.bar.baz", "foo.x.baz"},
			"*.bar":     {"foo.bar", "bar.bar", "foox.bar"},
			">":         published,
			"foo.bar":   {"foo.bar"},
			"*":         {"foo"},
			"*.*.*":     {"foo.bar.baz", "foo.x.baz", "foo.bar.qux"},
		}
		for _, p := range patterns {
			sub := subs[p]
			n, _, _ := sub.Pending()
			var got []string
			for i := 0; i < n; i++ {
				m := next(t, sub)
				if m.Subject != string(m.Data) {
					t.Errorf("%s: subject %q carries payload %q", p, m.Subject, m.Data)
				}
				got = append(got, m.Subject)
			}
			if fmt.Sprint(got) != fmt.Sprint(want[p]) {
				t.Errorf("subscription %q got %v, want %v", p, got, want[p])
			}
		}
	})
}

func TestQueueGroups(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		const total = 300
		var mu sync.Mutex
		seen := map[string]map[int]int{} // group -> msg index -> deliveries
		perMember := map[string]int{}
		count := 0
		done, fire := signal()
		// group "workers": 3 members on 3 connections; group "audit": 2 members
		// on one connection; plus a plain subscription.
		handler := func(group, member string) nats.MsgHandler {
			return func(m *nats.Msg) {
				i, _ := strconv.Atoi(string(m.Data))
				mu.Lock()
				defer mu.Unlock()
				if seen[group] == nil {
					seen[group] = map[int]int{}
				}
				seen[group][i]++
				perMember[member]++
				count++
				if count == 3*total {
					fire()
				}
			}
		}
		var conns []*nats.Conn
		for i := 0; i < 3; i++ {
			nc := connect(t, s)
			conns = append(conns, nc)
			if _, err := nc.QueueSubscribe("jobs.*", "workers", handler("workers", fmt.Sprintf("w%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		ac := connect(t, s)
		conns = append(conns, ac)
		for i := 0; i < 2; i++ {
			if _, err := ac.QueueSubscribe("jobs.>", "audit", handler("audit", fmt.Sprintf("a%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ac.Subscribe("jobs.new", handler("plain", "plain")); err != nil {
			t.Fatal(err)
		}
		flush(t, conns...)
		pc := connect(t, s)
		for i := 0; i < total; i++ {
			if err := pc.Publish("jobs.new", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, pc)
		waitFor(t, done, msgWait, "3 deliveries of every message")
		// Deliveries beyond the expected count would have arrived before these PONGs.
		flush(t, conns...)
		mu.Lock()
		defer mu.Unlock()
		if count != 3*total {
			t.Fatalf("%d deliveries, want %d", count, 3*total)
		}
		for _, g := range []string{"workers", "audit", "plain"} {
			if len(seen[g]) != total {
				t.Errorf("group %s saw %d distinct messages, want %d", g, len(seen[g]), total)
			}
			for i, n := range seen[g] {
				if n != 1 {
					t.Errorf("group %s: message %d delivered %d times", g, i, n)
				}
			}
		}
		t.Logf("per member: %v", perMember)
		// The server is documented to pick members at random; a member getting
		// nothing at all out of 300 is not a plausible random outcome.
		for _, m := range []string{"w0", "w1", "w2", "a0", "a1"} {
			if perMember[m] == 0 {
				t.Errorf("queue member %s received nothing of %d messages", m, total)
			}
		}
	})
}

func TestOrderingSinglePublisher(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		sc := connect(t, s)
		pc := connect(t, s)
		const total = 10000
		var bad []string
		var mu sync.Mutex
		expect := 0
		done, fire := signal()
		sub, err := sc.Subscribe("order", func(m *nats.Msg) {
			i, err := strconv.Atoi(string(m.Data))
			mu.Lock()
			if err != nil || i != expect {
				if len(bad) < 5 {
					bad = append(bad, fmt.Sprintf("position %d got %q", expect, m.Data))
				}
			}
			expect++
			n := expect
			mu.Unlock()
			if n == total {
				fire()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		sub.SetPendingLimits(-1, -1)
		flush(t, sc)
		for i := 0; i < total; i++ {
			if err := pc.Publish("order", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, pc)
		waitFor(t, done, 30*time.Second, "10,000 messages")
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Errorf("out of order: %v", bad)
		}
	})
}

func TestEchoOff(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		quiet := connect(t, s, nats.NoEcho())
		other := connect(t, s)
		mine, err := quiet.SubscribeSync("chat")
		if err != nil {
			t.Fatal(err)
		}
		theirs, _ := other.SubscribeSync("chat")
		flush(t, quiet, other)
		quiet.Publish("chat", []byte("from quiet"))
		other.Publish("chat", []byte("from other"))
		flush(t, quiet, other)
		// other gets both messages (order across publishers is not defined).
		got := map[string]bool{}
		got[string(next(t, theirs).Data)] = true
		got[string(next(t, theirs).Data)] = true
		if !got["from quiet"] || !got["from other"] {
			t.Errorf("echo-on connection got %v", got)
		}
		// quiet gets only the other's message, never its own.
		if m := next(t, mine); string(m.Data) != "from other" {
			t.Errorf("no-echo connection got %q", m.Data)
		}
		flush(t, quiet)
		if n, _, _ := mine.Pending(); n != 0 {
			m, _ := mine.NextMsg(time.Second)
			t.Errorf("no-echo connection received its own publish: %q", m.Data)
		}
		if st := quiet.Stats(); st.InMsgs != 1 {
			t.Errorf("no-echo connection InMsgs = %d, want 1", st.InMsgs)
		}
	})
}

func TestFlushAndRTT(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		nc := connect(t, s)
		for i := 0; i < 20; i++ {
			if err := nc.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}
		rtt, err := nc.RTT()
		if err != nil {
			t.Fatalf("RTT: %v", err)
		}
		if rtt <= 0 {
			t.Errorf("RTT = %v", rtt)
		}
		// Many flushes in flight at once from several goroutines.
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := nc.FlushTimeout(msgWait); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent flush: %v", err)
		}
	})
}

func TestAutoUnsubscribe(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		sc := connect(t, s)
		pc := connect(t, s)
		const n = 7
		sub, err := sc.SubscribeSync("limited")
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.AutoUnsubscribe(n); err != nil {
			t.Fatal(err)
		}
		flush(t, sc)
		for i := 0; i < 3*n; i++ {
			pc.Publish("limited", []byte(strconv.Itoa(i)))
		}
		flush(t, pc)
		flush(t, sc)
		for i := 0; i < n; i++ {
			m := next(t, sub)
			if string(m.Data) != strconv.Itoa(i) {
				t.Errorf("message %d = %q", i, m.Data)
			}
		}
		if _, err := sub.NextMsg(100 * time.Millisecond); err != nats.ErrMaxMessages && err != nats.ErrBadSubscription {
			t.Errorf("after %d messages NextMsg returned %v, want ErrMaxMessages", n, err)
		}
		// InMsgs counts every MSG the server sent to this connection, even ones
		// the client would drop: the server must have stopped at n.
		if st := sc.Stats(); st.InMsgs != n {
			t.Errorf("server delivered %d messages, want exactly %d", st.InMsgs, n)
		}

		// nats.go sends a plain UNSUB when the max is already reached, so the
		// server side of "UNSUB <sid> <max>" with max <= delivered is raw.
		rc := rawConnect(t, s)
		rc.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\nSUB lim2 1\r\n")
		rc.send("PUB lim2 1\r\na\r\nPUB lim2 1\r\nb\r\nPUB lim2 1\r\nc\r\nPING\r\n")
		for _, want := range []string{"a", "b", "c"} {
			if l := rc.line(); l != "MSG lim2 1 1" {
				t.Fatalf("got %q", l)
			}
			if p := rc.payload(1); string(p) != want {
				t.Fatalf("got %q want %q", p, want)
			}
		}
		if l := rc.line(); l != "PONG" {
			t.Fatalf("got %q", l)
		}
		rc.send("UNSUB 1 2\r\nPUB lim2 1\r\nd\r\nPING\r\n")
		if l := rc.line(); l != "PONG" {
			t.Errorf("after UNSUB 1 2 with 3 delivered: got %q, want PONG (subscription removed at once)", l)
		}
		// UNSUB with a max still ahead: exactly that many more.
		rc.send("SUB lim3 2\r\nUNSUB 2 2\r\nPUB lim3 1\r\ne\r\nPUB lim3 1\r\nf\r\nPUB lim3 1\r\ng\r\nPING\r\n")
		for _, want := range []string{"e", "f"} {
			if l := rc.line(); l != "MSG lim3 2 1" {
				t.Fatalf("got %q", l)
			}
			if p := rc.payload(1); string(p) != want {
				t.Fatalf("got %q want %q", p, want)
			}
		}
		if l := rc.line(); l != "PONG" {
			t.Errorf("third message after UNSUB 2 2: got %q, want PONG", l)
		}
	})
}

func TestPayloadSizes(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		sc := connect(t, s)
		pc := connect(t, s)
		max := int(pc.MaxPayload())
		if max != 1048576 {
			t.Fatalf("MaxPayload = %d", max)
		}
		sub, _ := sc.SubscribeSync("big")
		flush(t, sc)
		for _, size := range []int{0, 1, 4095, 4096, 65536, 512 * 1024, max - 1, max} {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i*7 + size)
			}
			if err := pc.Publish("big", data); err != nil {
				t.Fatalf("publish %d bytes: %v", size, err)
			}
			m := next(t, sub)
			if !bytes.Equal(m.Data, data) {
				t.Fatalf("payload of %d bytes arrived as %d bytes (or corrupted)", size, len(m.Data))
			}
		}
		if err := pc.Publish("big", make([]byte, max+1)); err != nats.ErrMaxPayload {
			t.Errorf("publishing max+1 bytes: %v, want ErrMaxPayload", err)
		}
		// The connection is still fine.
		flush(t, pc)
		pc.Publish("big", []byte("after"))
		if m := next(t, sub); string(m.Data) != "after" {
			t.Errorf("got %q", m.Data)
		}
	})
}

func TestSmallMaxPayloadConfig(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "max_payload: 1KB\n")
		sc := connect(t, s)
		pc := connect(t, s)
		if got := pc.MaxPayload(); got != 1024 {
			t.Fatalf("MaxPayload = %d, want 1024 (from config max_payload: 1KB)", got)
		}
		sub, _ := sc.SubscribeSync("small")
		flush(t, sc)
		data := bytes.Repeat([]byte("z"), 1024)
		if err := pc.Publish("small", data); err != nil {
			t.Fatal(err)
		}
		if m := next(t, sub); !bytes.Equal(m.Data, data) {
			t.Errorf("1024-byte payload arrived as %d bytes", len(m.Data))
		}
		if err := pc.Publish("small", append(data, 'z')); err != nats.ErrMaxPayload {
			t.Errorf("1025 bytes: %v, want ErrMaxPayload", err)
		}
		// Headers count toward max_payload too.
		hm := &nats.Msg{Subject: "small", Header: nats.Header{"K": []string{"v"}}, Data: data}
		if err := pc.PublishMsg(hm); err != nats.ErrMaxPayload {
			t.Errorf("1024 bytes + headers: %v, want ErrMaxPayload", err)
		}
		flush(t, pc)
		if !pc.IsConnected() {
			t.Error("publisher disconnected")
		}
	})
}
