package core

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// echoResponder answers every request on subj with "echo:" + payload.
func echoResponder(t *testing.T, nc *nats.Conn, subj string) {
	t.Helper()
	_, err := nc.Subscribe(subj, func(m *nats.Msg) {
		m.Respond(append([]byte("echo:"), m.Data...))
	})
	if err != nil {
		t.Fatal(err)
	}
	flush(t, nc)
}

func TestRequestReply(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		echoResponder(t, connect(t, s), "svc.echo")
		nc := connect(t, s)
		m, err := nc.Request("svc.echo", []byte("ping"), msgWait)
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		if string(m.Data) != "echo:ping" {
			t.Errorf("reply %q", m.Data)
		}
		if !strings.HasPrefix(m.Subject, "_INBOX.") {
			t.Errorf("reply delivered on %q, want an _INBOX. subject", m.Subject)
		}
		// A responder on the requester's own connection works too.
		echoResponder(t, nc, "svc.local")
		if m, err := nc.Request("svc.local", []byte("x"), msgWait); err != nil || string(m.Data) != "echo:x" {
			t.Errorf("local request: %v %q", err, dataOf(m))
		}
	})
}

func dataOf(m *nats.Msg) string {
	if m == nil {
		return "<nil>"
	}
	return string(m.Data)
}

func TestConcurrentRequests(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		// Two responders in a queue group, so each request is answered once.
		for i := 0; i < 2; i++ {
			rc := connect(t, s)
			if _, err := rc.QueueSubscribe("svc.add", "adders", func(m *nats.Msg) {
				m.Respond(append([]byte("sum:"), m.Data...))
			}); err != nil {
				t.Fatal(err)
			}
			flush(t, rc)
		}
		nc := connect(t, s)
		const n = 500
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := fmt.Sprintf("req-%d", i)
				m, err := nc.Request("svc.add", []byte(body), 20*time.Second)
				if err != nil {
					errs <- fmt.Sprintf("request %d: %v", i, err)
					return
				}
				if string(m.Data) != "sum:"+body {
					errs <- fmt.Sprintf("request %d got reply %q", i, m.Data)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		nerr := 0
		for e := range errs {
			if nerr++; nerr <= 10 {
				t.Error(e)
			}
		}
		// The new request style multiplexes over one _INBOX.<nuid>.* subscription.
		if subs := nc.NumSubscriptions(); subs != 1 {
			t.Errorf("requester has %d subscriptions, want 1 (the shared inbox)", subs)
		}
	})
}

func TestOldStyleRequest(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		echoResponder(t, connect(t, s), "svc.old")
		nc := connect(t, s, nats.UseOldRequestStyle())
		var wg sync.WaitGroup
		errs := make(chan string, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := fmt.Sprintf("old-%d", i)
				m, err := nc.Request("svc.old", []byte(body), msgWait)
				if err != nil {
					errs <- fmt.Sprintf("request %d: %v", i, err)
				} else if string(m.Data) != "echo:"+body {
					errs <- fmt.Sprintf("request %d got %q", i, m.Data)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		// Each old-style request used its own inbox with UNSUB 1; none is left.
		flush(t, nc)
		if subs := nc.NumSubscriptions(); subs != 0 {
			t.Errorf("%d subscriptions left after old-style requests", subs)
		}
		// No responders, old style.
		if _, err := nc.Request("svc.nobody", []byte("?"), msgWait); err != nats.ErrNoResponders {
			t.Errorf("old-style request without responders: %v, want ErrNoResponders", err)
		}
	})
}

func TestNoResponders(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		nc := connect(t, s)
		// The deadline is generous: the test distinguishes a 503 status
		// (ErrNoResponders) from silence (ErrTimeout), not speeds.
		if _, err := nc.Request("svc.nobody", []byte("anyone?"), msgWait); err != nats.ErrNoResponders {
			t.Fatalf("Request without responders: %v, want ErrNoResponders", err)
		}
		if _, err := nc.RequestMsg(&nats.Msg{Subject: "svc.nobody", Header: nats.Header{"A": []string{"1"}}}, msgWait); err != nats.ErrNoResponders {
			t.Errorf("RequestMsg with headers, no responders: %v", err)
		}
		// Several at once.
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := nc.Request(fmt.Sprintf("svc.none.%d", i), nil, msgWait)
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nats.ErrNoResponders {
				t.Errorf("concurrent: %v", err)
			}
		}
		// A subscriber whose subscription went away: no responders again.
		rc := connect(t, s)
		sub, _ := rc.Subscribe("svc.gone", func(m *nats.Msg) { m.Respond([]byte("here")) })
		flush(t, rc)
		if m, err := nc.Request("svc.gone", nil, msgWait); err != nil || string(m.Data) != "here" {
			t.Fatalf("with responder: %v", err)
		}
		sub.Unsubscribe()
		flush(t, rc)
		if _, err := nc.Request("svc.gone", nil, msgWait); err != nats.ErrNoResponders {
			t.Errorf("after the responder unsubscribed: %v, want ErrNoResponders", err)
		}
		// A queue subscriber counts as a responder.
		qc := connect(t, s)
		qc.QueueSubscribe("svc.q", "g", func(m *nats.Msg) { m.Respond([]byte("q")) })
		flush(t, qc)
		if m, err := nc.Request("svc.q", nil, msgWait); err != nil || string(m.Data) != "q" {
			t.Errorf("queue responder: %v %q", err, dataOf(m))
		}
		if !nc.IsConnected() {
			t.Error("requester disconnected")
		}
	})
}

func TestHeaders(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		sc := connect(t, s)
		pc := connect(t, s)
		sub, _ := sc.SubscribeSync("hdr.>")
		flush(t, sc)
		hdr := nats.Header{}
		hdr.Add("X-Multi", "one")
		hdr.Add("X-Multi", "two")
		hdr.Add("X-Multi", "three")
		hdr.Set("lower-case-key", "Value With Spaces")
		hdr.Set("Trace-Id", "abc:123")
		hdr.Set("Empty", "")
		msg := &nats.Msg{Subject: "hdr.a", Reply: "hdr.reply", Header: hdr, Data: []byte("body")}
		if err := pc.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
		// Headers with an empty payload.
		pc.PublishMsg(&nats.Msg{Subject: "hdr.b", Header: nats.Header{"Only": []string{"header"}}})
		flush(t, pc)

		m := next(t, sub)
		if string(m.Data) != "body" || m.Reply != "hdr.reply" || m.Subject != "hdr.a" {
			t.Errorf("got %q data %q reply %q", m.Subject, m.Data, m.Reply)
		}
		if !reflect.DeepEqual(m.Header, hdr) {
			t.Errorf("headers changed in transit:\n got  %v\n want %v", m.Header, hdr)
		}
		if got := m.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"one", "two", "three"}) {
			t.Errorf("multi-value header %v", got)
		}
		m = next(t, sub)
		if len(m.Data) != 0 || m.Header.Get("Only") != "header" {
			t.Errorf("header-only message: data %q header %v", m.Data, m.Header)
		}

		// A connection that did not negotiate headers gets a plain MSG without them.
		rc := rawConnect(t, s)
		rc.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,\"protocol\":1}\r\nSUB hdr.raw 9\r\nPING\r\n")
		if l := rc.line(); l != "PONG" {
			t.Fatalf("raw: %q", l)
		}
		pc.PublishMsg(&nats.Msg{Subject: "hdr.raw", Header: nats.Header{"K": []string{"v"}}, Data: []byte("plain")})
		flush(t, pc)
		l := rc.line()
		if l != "MSG hdr.raw 9 5" {
			t.Errorf("header-less subscriber got %q, want %q", l, "MSG hdr.raw 9 5")
		} else if p := rc.payload(5); string(p) != "plain" {
			t.Errorf("payload %q", p)
		}
	})
}

func TestRespondMsgWithHeaders(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		rc := connect(t, s)
		_, err := rc.Subscribe("svc.hdr", func(m *nats.Msg) {
			reply := nats.NewMsg(m.Reply)
			reply.Header.Set("Echo-Req", m.Header.Get("Req-Id"))
			for _, v := range m.Header.Values("Multi") {
				reply.Header.Add("Multi-Back", v)
			}
			reply.Data = append([]byte("re:"), m.Data...)
			m.RespondMsg(reply)
		})
		if err != nil {
			t.Fatal(err)
		}
		flush(t, rc)
		nc := connect(t, s)
		req := nats.NewMsg("svc.hdr")
		req.Header.Set("Req-Id", "42")
		req.Header.Add("Multi", "a")
		req.Header.Add("Multi", "b")
		req.Data = []byte("q")
		m, err := nc.RequestMsg(req, msgWait)
		if err != nil {
			t.Fatalf("RequestMsg: %v", err)
		}
		if string(m.Data) != "re:q" {
			t.Errorf("data %q", m.Data)
		}
		if m.Header.Get("Echo-Req") != "42" {
			t.Errorf("reply headers %v", m.Header)
		}
		if got := m.Header.Values("Multi-Back"); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Errorf("Multi-Back = %v", got)
		}
	})
}
