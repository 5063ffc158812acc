package core

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestMaxPayloadViolationRaw(t *testing.T) {
	// nats.go refuses oversized publishes itself; this checks the server side.
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "max_payload: 1KB\n")
		rc := rawConnect(t, s)
		rc.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\nPING\r\n")
		if l := rc.line(); l != "PONG" {
			t.Fatalf("got %q", l)
		}
		rc.send("PUB x 1025\r\n")
		if l := rc.line(); l != "-ERR 'Maximum Payload Violation'" {
			t.Errorf("got %q, want -ERR 'Maximum Payload Violation'", l)
		}
		expectClosed(t, rc)
	})
}

// expectClosed asserts the server closes the raw connection.
func expectClosed(t *testing.T, rc *rawConn) {
	t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(rc.r)
	if err != nil && !isConnReset(err) {
		t.Errorf("expected the server to close the connection: %v (read %q)", err, rest)
	} else if len(rest) > 0 {
		t.Errorf("unexpected bytes before close: %q", rest)
	}
}

func isConnReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestMaxConnections(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "max_connections: 3\n")
		var conns []*nats.Conn
		for i := 0; i < 3; i++ {
			conns = append(conns, connect(t, s))
		}
		d := newTapDialer(0)
		d.lenientWrites = true
		for i := 0; i < 5; i++ {
			nc, err := nats.Connect(s.url, nats.Timeout(5*time.Second), nats.SetCustomDialer(d))
			if err == nil {
				nc.Close()
				t.Fatal("4th connection accepted with max_connections: 3")
			}
			if !strings.Contains(strings.ToLower(err.Error()), "maximum connections") {
				t.Errorf("4th connection error %q does not mention maximum connections", err)
			}
		}
		// The three admitted connections are unaffected.
		flush(t, conns...)

		// Raw view: INFO, then the -ERR, then close.
		rc := rawConnect(t, s)
		if l := rc.line(); l != "-ERR 'maximum connections exceeded'" {
			t.Errorf("raw 4th connection: %q", l)
		}
		expectClosed(t, rc)

		// Closing one frees a slot. The server notices the close
		// asynchronously, so poll with a deadline.
		conns[0].Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			nc, err := nats.Connect(s.url)
			if err == nil {
				nc.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no slot freed after closing a connection: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestMaxSubscriptions(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "max_subscriptions: 5\n")
		asyncErr := make(chan error, 10)
		closed, fireClosed := signal()
		nc := connect(t, s,
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				asyncErr <- err
			}),
			nats.ClosedHandler(func(*nats.Conn) { fireClosed() }),
			nats.NoReconnect())
		pc := connect(t, s)
		var subs []*nats.Subscription
		for i := 0; i < 5; i++ {
			sub, err := nc.SubscribeSync(fmt.Sprintf("lim.%d", i))
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, sub)
		}
		flush(t, nc)
		select {
		case err := <-asyncErr:
			t.Fatalf("error with 5 subscriptions: %v", err)
		default:
		}
		pc.Publish("lim.0", []byte("ok"))
		flush(t, pc)
		if m := next(t, subs[0]); string(m.Data) != "ok" {
			t.Fatalf("got %q", m.Data)
		}

		// The 6th: the server answers -ERR 'maximum subscriptions exceeded'.
		// nats.go 1.22 does not know that error is non-fatal (later releases
		// do): it records it as the connection's last error and closes the
		// connection itself. So through nats.go we check the error text; the
		// raw check below proves the server keeps the connection.
		if _, err := nc.SubscribeSync("lim.5"); err != nil {
			t.Fatalf("Subscribe returned synchronously: %v", err)
		}
		nc.Flush() // may fail: the client closes itself on the -ERR
		var got error
		select {
		case got = <-asyncErr:
		case <-closed:
			got = nc.LastError()
		case <-time.After(msgWait):
			t.Fatal("no error reported for the 6th subscription")
		}
		if got == nil || !strings.Contains(strings.ToLower(got.Error()), "maximum subscriptions exceeded") {
			t.Errorf("6th subscription error = %v, want 'maximum subscriptions exceeded'", got)
		}

		// Raw protocol: the connection stays usable after the -ERR.
		rc := rawConnect(t, s)
		rc.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n")
		for i := 1; i <= 5; i++ {
			rc.send(fmt.Sprintf("SUB raw.%d %d\r\n", i, i))
		}
		rc.send("PING\r\n")
		if l := rc.line(); l != "PONG" {
			t.Fatalf("after 5 SUBs: %q", l)
		}
		rc.send("SUB raw.6 6\r\nPING\r\n")
		if l := rc.line(); l != "-ERR 'maximum subscriptions exceeded'" {
			t.Errorf("6th SUB: %q, want -ERR 'maximum subscriptions exceeded'", l)
		}
		if l := rc.line(); l != "PONG" {
			t.Fatalf("after the refused SUB the connection answered %q", l)
		}
		rc.send("PUB raw.6 1\r\nx\r\nPUB raw.1 2\r\nhi\r\nPING\r\n")
		if l := rc.line(); l != "MSG raw.1 1 2" {
			t.Errorf("delivery after the refused SUB: %q, want MSG raw.1 1 2", l)
		} else {
			rc.payload(2)
			if l := rc.line(); l != "PONG" {
				t.Errorf("got %q, want PONG", l)
			}
		}
		// Unsubscribing frees a slot.
		rc.send("UNSUB 1\r\nSUB raw.7 7\r\nPUB raw.7 1\r\ny\r\nPING\r\n")
		if l := rc.line(); l != "MSG raw.7 7 1" {
			t.Errorf("after UNSUB, a new SUB: %q", l)
		}
	})
}

func TestSlowConsumer(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		// max_payload must not exceed max_pending (nats-server refuses to
		// start). nats-server 2.9.10 stalls the publisher while the slow
		// connection's buffer is over 3/4 of max_pending and then closes it
		// when a write blocks longer than write_deadline (default 10s), so
		// a short write_deadline keeps the test short.
		s := startServer(t, im, "max_pending: 512KB\nmax_payload: 64KB\nwrite_deadline: \"2s\"\n")

		// The slow subscriber: its handler blocks and its connection stops
		// reading the socket, with a small receive buffer.
		d := newTapDialer(16 * 1024)
		t.Cleanup(d.releaseAll)
		disc, fireDisc := signal()
		closed, fireClosed := signal()
		var discErr error
		var mu sync.Mutex
		slow := connect(t, s, nats.SetCustomDialer(d), nats.NoReconnect(),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				mu.Lock()
				discErr = err
				mu.Unlock()
				fireDisc()
			}),
			nats.ClosedHandler(func(*nats.Conn) { fireClosed() }),
			nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		block := make(chan struct{})
		t.Cleanup(func() { close(block) })
		ssub, err := slow.Subscribe("flood", func(*nats.Msg) { <-block })
		if err != nil {
			t.Fatal(err)
		}
		ssub.SetPendingLimits(-1, -1)
		flush(t, slow)
		d.last().stall()

		// The healthy subscriber on its own connection.
		var hmu sync.Mutex
		hcond := sync.NewCond(&hmu)
		healthyGot, outOfOrder := 0, 0
		healthy := connect(t, s)
		_, err = healthy.Subscribe("flood", func(m *nats.Msg) {
			hmu.Lock()
			if !bytes.HasPrefix(m.Data, []byte(fmt.Sprintf("%08d", healthyGot))) {
				outOfOrder++
			}
			healthyGot++
			hcond.Broadcast()
			hmu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		flush(t, healthy)

		// Flood: 16 MB (far beyond 512 KB of max_pending plus the kernel's
		// socket buffers), paced by the healthy subscriber so that it never
		// has more than one batch outstanding.
		pub := connect(t, s)
		const size, batch, total = 1024, 128, 16 * 1024
		payload := bytes.Repeat([]byte("."), size)
		waitHealthy := func(n int) bool {
			timer := time.AfterFunc(20*time.Second, func() {
				hmu.Lock()
				hcond.Broadcast()
				hmu.Unlock()
			})
			defer timer.Stop()
			deadline := time.Now().Add(20 * time.Second)
			hmu.Lock()
			defer hmu.Unlock()
			for healthyGot < n {
				if time.Now().After(deadline) {
					return false
				}
				hcond.Wait()
			}
			return true
		}
		for sent := 0; sent < total; {
			for i := 0; i < batch; i++ {
				copy(payload, fmt.Sprintf("%08d", sent))
				if err := pub.Publish("flood", payload); err != nil {
					t.Fatalf("publish %d: %v", sent, err)
				}
				sent++
			}
			flush(t, pub)
			if !waitHealthy(sent) {
				hmu.Lock()
				t.Fatalf("healthy subscriber stuck at %d of %d (healthy conn status %v)", healthyGot, sent, healthy.Status())
			}
		}
		hmu.Lock()
		if healthyGot != total || outOfOrder != 0 {
			t.Errorf("healthy subscriber got %d of %d (%d out of order)", healthyGot, total, outOfOrder)
		}
		hmu.Unlock()
		if !healthy.IsConnected() {
			t.Error("healthy subscriber was disconnected")
		}

		// Let the slow client read again: it must find its connection closed
		// by the server after whatever the kernel still held.
		d.releaseAll()
		waitFor(t, disc, 20*time.Second, "the slow consumer's disconnect")
		waitFor(t, closed, 20*time.Second, "the slow consumer's close")
		mu.Lock()
		t.Logf("slow consumer disconnect error: %v", discErr)
		mu.Unlock()
		if in := slow.Stats().InMsgs; in >= total {
			t.Errorf("slow consumer received all %d messages; the server should have cut it off", in)
		} else {
			t.Logf("slow consumer received %d of %d before the close", in, total)
		}
		// The server is still healthy for everyone else.
		flush(t, pub, healthy)
	})
}

func TestKeepalive(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "ping_interval: \"100ms\"\nping_max: 2\n")
		d := newTapDialer(0)
		disc, fireDisc := signal()
		var discErr error
		var mu sync.Mutex
		nc := connect(t, s, nats.SetCustomDialer(d),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				mu.Lock()
				discErr = err
				mu.Unlock()
				fireDisc()
			}))
		// Wait for 10 server PINGs: 10 intervals, well past ping_max, and
		// about 1 s. nats.go answers each with PONG, so it must stay up.
		const want = 10
		deadline := time.After(30 * time.Second)
		for seen := 0; seen < want; seen++ {
			select {
			case <-d.pingCh:
			case <-disc:
				mu.Lock()
				t.Fatalf("disconnected after %d server PINGs: %v", seen, discErr)
			case <-deadline:
				t.Fatalf("server sent only %d PINGs (ping_interval 100ms)", seen)
			}
		}
		select {
		case <-disc:
			t.Fatalf("disconnected: %v", discErr)
		default:
		}
		if !nc.IsConnected() || nc.Stats().Reconnects != 0 {
			t.Errorf("status %v, reconnects %d", nc.Status(), nc.Stats().Reconnects)
		}
		flush(t, nc)

		// A client that does not answer PINGs is closed as stale after ping_max.
		rc := rawConnect(t, s)
		rc.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\nPING\r\n")
		if l := rc.line(); l != "PONG" {
			t.Fatalf("got %q", l)
		}
		pings := 0
		for {
			l := rc.line()
			if l == "PING" {
				pings++
				continue
			}
			if l != "-ERR 'Stale Connection'" {
				t.Errorf("got %q, want PING or -ERR 'Stale Connection'", l)
			}
			break
		}
		if pings != 2 {
			t.Errorf("%d PINGs before the stale error, want ping_max=2", pings)
		}
		expectClosed(t, rc)
	})
}

func TestReconnect(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		disc, fireDisc := signal()
		recon, fireRecon := signal()
		nc := connect(t, s,
			nats.MaxReconnects(-1),
			nats.ReconnectWait(100*time.Millisecond),
			nats.DisconnectErrHandler(func(*nats.Conn, error) { fireDisc() }),
			nats.ReconnectHandler(func(*nats.Conn) { fireRecon() }))
		sub, err := nc.SubscribeSync("after.restart")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, nc)
		s.stop()
		waitFor(t, disc, 20*time.Second, "the disconnect handler")
		if nc.IsConnected() {
			t.Error("still connected after the server stopped")
		}
		s.restart()
		waitFor(t, recon, 30*time.Second, "the reconnect handler")
		// The subscription was re-established on the new server: the flush
		// round trip makes sure the server has processed the resent SUB
		// before another connection publishes.
		flush(t, nc)
		other := connect(t, s)
		other.Publish("after.restart", []byte("back"))
		flush(t, other)
		if m := next(t, sub); string(m.Data) != "back" {
			t.Errorf("got %q", m.Data)
		}
		if r := nc.Stats().Reconnects; r != 1 {
			t.Errorf("Reconnects = %d", r)
		}
	})
}

func TestDrain(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "")
		closed, fireClosed := signal()
		var asyncErrs []error
		var mu sync.Mutex
		sc := connect(t, s,
			nats.ClosedHandler(func(*nats.Conn) { fireClosed() }),
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				mu.Lock()
				asyncErrs = append(asyncErrs, err)
				mu.Unlock()
			}))
		gate := make(chan struct{})
		got := 0
		var gotMu sync.Mutex
		_, err := sc.Subscribe("drain.me", func(*nats.Msg) {
			<-gate
			gotMu.Lock()
			got++
			gotMu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		flush(t, sc)
		pc := connect(t, s)
		const n = 2000
		for i := 0; i < n; i++ {
			pc.Publish("drain.me", []byte("m"))
		}
		// After the publisher's flush the server has routed all n messages to
		// the subscriber's connection, ahead of the UNSUB that Drain sends.
		flush(t, pc)
		if err := sc.Drain(); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		close(gate) // the handler now runs through the messages in flight
		waitFor(t, closed, 40*time.Second, "drain to complete")
		gotMu.Lock()
		if got != n {
			t.Errorf("drain delivered %d of %d messages in flight", got, n)
		}
		gotMu.Unlock()
		if !sc.IsClosed() {
			t.Error("connection not closed after drain")
		}
		mu.Lock()
		for _, e := range asyncErrs {
			if !errors.Is(e, nats.ErrSlowConsumer) {
				t.Errorf("async error during drain: %v", e)
			}
		}
		mu.Unlock()
	})
}
