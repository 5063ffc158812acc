package core

// JetStream push consumers through nats.go 1.22's legacy API (js.Subscribe,
// js.QueueSubscribe, js.ChanSubscribe, js.SubscribeSync, OrderedConsumer),
// against nats-server and sluice-server: ack policies, deliver groups,
// durable restart, ordered consumers (and their recreation), idle
// heartbeats, flow control, max_deliver and +TERM advisories, replay
// original, rate limit, headers only. Time-driven cases use short intervals
// and generous deadlines; timing is asserted only as a lower bound.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// collect gathers messages from a callback until n arrived or the deadline passes.
type collector struct {
	mu   sync.Mutex
	msgs []*nats.Msg
	done chan struct{}
	n    int
}

func newCollector(n int) *collector { return &collector{done: make(chan struct{}), n: n} }

func (c *collector) add(m *nats.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	if len(c.msgs) == c.n {
		close(c.done)
	}
}

func (c *collector) wait(t *testing.T, what string) []*nats.Msg {
	t.Helper()
	waitFor(t, c.done, 20*time.Second, what)
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*nats.Msg(nil), c.msgs...)
}

func streamSeq(t *testing.T, m *nats.Msg) uint64 {
	t.Helper()
	md, err := m.Metadata()
	if err != nil {
		t.Fatalf("metadata of %q: %v", m.Reply, err)
	}
	return md.Sequence.Stream
}

func TestJSPushSubscribeAckPolicies(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		publishN(t, js, "p.a", 10)

		// Auto-ack (explicit by default): everything acknowledged.
		c := newCollector(10)
		sub, err := js.Subscribe("p.a", c.add, nats.Durable("auto"))
		if err != nil {
			t.Fatal(err)
		}
		msgs := c.wait(t, "auto-acked messages")
		for i, m := range msgs {
			if got := streamSeq(t, m); got != uint64(i+1) {
				t.Fatalf("message %d has stream seq %d", i, got)
			}
		}
		ci := waitInfo(t, js, "P", "auto", "all acked", func(ci *nats.ConsumerInfo) bool { return ci.NumAckPending == 0 })
		if !ci.PushBound || ci.Config.DeliverSubject == "" || ci.Config.AckPolicy != nats.AckExplicitPolicy || ci.Delivered.Consumer != 10 {
			t.Fatalf("info: %+v", ci)
		}
		sub.Unsubscribe() // nats.go deletes the consumer it created

		// Manual ack, ack all: acking the last covers the rest.
		c = newCollector(10)
		sub, err = js.Subscribe("p.a", c.add, nats.Durable("all"), nats.ManualAck(), nats.AckAll())
		if err != nil {
			t.Fatal(err)
		}
		msgs = c.wait(t, "ack-all messages")
		if ci := consumerInfo(t, js, "P", "all"); ci.NumAckPending != 10 {
			t.Fatalf("before ack: %d pending", ci.NumAckPending)
		}
		if err := msgs[9].AckSync(); err != nil {
			t.Fatal(err)
		}
		if ci := consumerInfo(t, js, "P", "all"); ci.NumAckPending != 0 || ci.AckFloor.Stream != 10 {
			t.Fatalf("after ack all: %+v", ci)
		}
		sub.Unsubscribe()

		// Manual explicit ack: only what was acked leaves pending.
		c = newCollector(10)
		sub, err = js.Subscribe("p.a", c.add, nats.Durable("manual"), nats.ManualAck(), nats.AckExplicit())
		if err != nil {
			t.Fatal(err)
		}
		msgs = c.wait(t, "manual-ack messages")
		for _, m := range msgs[:4] {
			if err := m.AckSync(); err != nil {
				t.Fatal(err)
			}
		}
		if ci := consumerInfo(t, js, "P", "manual"); ci.NumAckPending != 6 {
			t.Fatalf("after 4 acks: %d pending", ci.NumAckPending)
		}
		sub.Unsubscribe()

		// Ack none.
		c = newCollector(10)
		sub, err = js.Subscribe("p.a", c.add, nats.Durable("none"), nats.AckNone())
		if err != nil {
			t.Fatal(err)
		}
		c.wait(t, "ack-none messages")
		ci = consumerInfo(t, js, "P", "none")
		if ci.NumAckPending != 0 || ci.AckFloor.Consumer != 10 {
			t.Fatalf("ack none: %+v", ci)
		}
		sub.Unsubscribe()
	})
}

func TestJSPushQueueAndChanSubscribe(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "Q", Subjects: []string{"q"}})

		// Two members of one deliver group: each message reaches exactly one.
		var mu sync.Mutex
		seen := map[uint64]int{}
		perMember := [2]int{}
		all := make(chan struct{}, 100)
		for i := 0; i < 2; i++ {
			i := i
			_, err := js.QueueSubscribe("q", "workers", func(m *nats.Msg) {
				mu.Lock()
				seen[streamSeq(t, m)]++
				perMember[i]++
				mu.Unlock()
				all <- struct{}{}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		ci := consumerInfo(t, js, "Q", "workers")
		if ci.Config.DeliverGroup != "workers" || !ci.PushBound {
			t.Fatalf("queue consumer info: %+v", ci.Config)
		}
		publishN(t, js, "q", 50)
		for i := 0; i < 50; i++ {
			select {
			case <-all:
			case <-time.After(20 * time.Second):
				t.Fatalf("got %d of 50 queue deliveries", i)
			}
		}
		waitInfo(t, js, "Q", "workers", "all acked", func(ci *nats.ConsumerInfo) bool { return ci.NumAckPending == 0 })
		mu.Lock()
		for seq := uint64(1); seq <= 50; seq++ {
			if seen[seq] != 1 {
				t.Fatalf("seq %d delivered %d times", seq, seen[seq])
			}
		}
		mu.Unlock()

		// ChanSubscribe.
		ch := make(chan *nats.Msg, 64)
		sub, err := js.ChanSubscribe("q", ch, nats.DeliverAll())
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		for i := 1; i <= 50; i++ {
			select {
			case m := <-ch:
				if got := streamSeq(t, m); got != uint64(i) {
					t.Fatalf("chan message %d: seq %d", i, got)
				}
				m.Ack()
			case <-time.After(20 * time.Second):
				t.Fatalf("chan subscription got %d of 50", i-1)
			}
		}
	})
}

func TestJSPushDurableSyncSurvivesRestart(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "R", Subjects: []string{"r"}})
		publishN(t, js, "r", 5)
		sub, err := js.SubscribeSync("r", nats.Durable("keep"), nats.AckWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			m, err := sub.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if got := streamSeq(t, m); got != uint64(i) {
				t.Fatalf("message %d has seq %d", i, got)
			}
			if err := m.AckSync(); err != nil {
				t.Fatal(err)
			}
		}
		// Two deliveries left unacknowledged: redelivered after the restart
		// (at once by Sluice, after ack_wait by nats-server); the acked ones never.
		for i := 4; i <= 5; i++ {
			if _, err := sub.NextMsg(10 * time.Second); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		s.restart()
		ci := waitInfo(t, js, "R", "keep", "rebound after restart", func(ci *nats.ConsumerInfo) bool { return ci.PushBound })
		if ci.Delivered.Stream < 3 || ci.AckFloor.Stream != 3 {
			t.Fatalf("position after restart: %+v", ci)
		}
		publishN(t, js, "r", 1) // seq 6
		got := map[uint64]bool{}
		for len(got) < 3 {
			m, err := sub.NextMsg(15 * time.Second)
			if err != nil {
				t.Fatalf("after restart, got %v: %v", got, err)
			}
			seq := streamSeq(t, m)
			if seq <= 3 {
				t.Fatalf("acknowledged seq %d delivered again", seq)
			}
			got[seq] = true
			m.AckSync()
		}
		if !got[4] || !got[5] || !got[6] {
			t.Fatalf("after restart: %v", got)
		}
	})
}

func TestJSPushOrderedConsumer(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
		const total = 5000
		payload := strings.Repeat("o", 1024)
		for i := 0; i < total; i++ {
			if _, err := js.PublishAsync(fmt.Sprintf("o.%d", i%7), []byte(payload)); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			t.Fatal("publishes not acknowledged")
		}
		var next atomic.Uint64
		next.Store(1)
		var bad atomic.Value
		done := make(chan struct{})
		var once sync.Once
		sub, err := js.Subscribe("o.>", func(m *nats.Msg) {
			seq := streamSeq(t, m)
			if want := next.Load(); seq != want {
				bad.Store(fmt.Sprintf("got seq %d, want %d", seq, want))
			}
			next.Store(seq + 1)
			if seq == total {
				once.Do(func() { close(done) })
			}
		}, nats.OrderedConsumer(), nats.IdleHeartbeat(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		waitFor(t, done, 60*time.Second, "the whole stream in order")
		if v := bad.Load(); v != nil {
			t.Fatal(v)
		}
		ci, err := sub.ConsumerInfo()
		if err != nil {
			t.Fatal(err)
		}
		c := ci.Config
		if c.AckPolicy != nats.AckNonePolicy || !c.FlowControl || c.MaxDeliver != 1 || c.Heartbeat != 300*time.Millisecond || !c.MemoryStorage {
			t.Fatalf("ordered consumer config: %+v", c)
		}
		// The server deletes the consumer: the client notices the missing
		// heartbeats and recreates it from the next stream sequence.
		if err := js.DeleteConsumer("O", ci.Name); err != nil {
			t.Fatal(err)
		}
		publishN(t, js, "o.x", 3)
		end := time.Now().Add(30 * time.Second)
		for next.Load() <= total+3 {
			if time.Now().After(end) {
				t.Fatalf("ordered consumer not recreated: next seq %d", next.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if v := bad.Load(); v != nil {
			t.Fatal(v)
		}
	})
}

func TestJSPushIdleHeartbeatRaw(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "H", Subjects: []string{"h"}})
		publishN(t, js, "h", 2)
		raw, err := nc.SubscribeSync("hb.deliver")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.AddConsumer("H", &nats.ConsumerConfig{Durable: "hb", DeliverSubject: "hb.deliver",
			AckPolicy: nats.AckNonePolicy, Heartbeat: 200 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			m, err := raw.NextMsg(10 * time.Second)
			if err != nil || m.Header.Get("Status") != "" {
				t.Fatalf("data message %d: %v %v", i, m, err)
			}
		}
		m, err := raw.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Status") != "100" || m.Header.Get("Description") != "Idle Heartbeat" || m.Reply != "" ||
			m.Header.Get("Nats-Last-Consumer") != "2" || m.Header.Get("Nats-Last-Stream") != "2" || len(m.Data) != 0 {
			t.Fatalf("heartbeat: reply %q headers %v data %q", m.Reply, m.Header, m.Data)
		}
	})
}

func TestJSPushFlowControlLargeStream(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "F", Subjects: []string{"f"}})
		const total = 2000
		payload := strings.Repeat("f", 10*1024) // 20 MB in all
		for i := 0; i < total; i++ {
			if _, err := js.PublishAsync("f", []byte(payload)); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(60 * time.Second):
			t.Fatal("publishes not acknowledged")
		}
		// A spy on the deliver subject (another connection) sees the requests.
		spyConn := connect(t, s)
		var requests atomic.Int64
		spy, err := spyConn.Subscribe("fc.deliver", func(m *nats.Msg) {
			if m.Header.Get("Status") == "100" && m.Header.Get("Description") == "FlowControl Request" && m.Reply != "" {
				requests.Add(1)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		spy.SetPendingLimits(-1, -1)
		spyConn.Flush()

		var slow atomic.Int64
		nc2 := connect(t, s, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if err == nats.ErrSlowConsumer {
				slow.Add(1)
			}
		}))
		js2 := jsCtx(t, nc2)
		var got atomic.Int64
		done := make(chan struct{})
		sub, err := js2.Subscribe("f", func(m *nats.Msg) {
			n := got.Add(1)
			if n%100 == 0 {
				time.Sleep(2 * time.Millisecond) // a consumer slower than the wire
			}
			if n == total {
				close(done)
			}
		}, nats.DeliverSubject("fc.deliver"), nats.EnableFlowControl(), nats.IdleHeartbeat(time.Second), nats.AckNone())
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		if err := sub.SetPendingLimits(total, 8*1024*1024); err != nil {
			t.Fatal(err)
		}
		waitFor(t, done, 60*time.Second, "20 MB through flow control")
		if slow.Load() != 0 {
			t.Fatalf("%d slow-consumer errors", slow.Load())
		}
		if requests.Load() == 0 {
			t.Fatal("no flow-control request seen")
		}
	})
}

// advisories subscribes to subject and decodes each advisory.
func advisories(t *testing.T, nc *nats.Conn, subject string) chan map[string]any {
	t.Helper()
	ch := make(chan map[string]any, 16)
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var a map[string]any
		if err := json.Unmarshal(m.Data, &a); err == nil {
			ch <- a
		}
	}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	return ch
}

func nextAdvisory(t *testing.T, ch chan map[string]any, what string) map[string]any {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s advisory", what)
	}
	return nil
}

func TestJSPushMaxDeliverAndTermAdvisories(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "A", Subjects: []string{"a"}})
		maxd := advisories(t, nc, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.A.md")
		term := advisories(t, nc, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.A.tm")
		publishN(t, js, "a", 1)

		deliveries := make(chan *nats.Msg, 8)
		sub, err := js.Subscribe("a", func(m *nats.Msg) { deliveries <- m }, nats.Durable("md"), nats.ManualAck(),
			nats.MaxDeliver(2), nats.AckWait(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		for i := 1; i <= 2; i++ {
			select {
			case m := <-deliveries:
				md, _ := m.Metadata()
				if md.NumDelivered != uint64(i) {
					t.Fatalf("delivery %d: num delivered %d", i, md.NumDelivered)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("delivery %d missing", i)
			}
		}
		a := nextAdvisory(t, maxd, "max deliveries")
		if a["type"] != "io.nats.jetstream.advisory.v1.max_deliver" || a["stream"] != "A" || a["consumer"] != "md" ||
			a["stream_seq"] != float64(1) || a["deliveries"] != float64(2) || a["id"] == "" || a["timestamp"] == nil {
			t.Fatalf("max deliveries advisory: %v", a)
		}
		select {
		case m := <-deliveries:
			t.Fatalf("delivered after max_deliver: %q", m.Reply)
		case <-time.After(700 * time.Millisecond):
		}

		tsub, err := js.SubscribeSync("a", nats.Durable("tm"), nats.ManualAck())
		if err != nil {
			t.Fatal(err)
		}
		defer tsub.Unsubscribe()
		m, err := tsub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Term(); err != nil {
			t.Fatal(err)
		}
		a = nextAdvisory(t, term, "terminated")
		if a["type"] != "io.nats.jetstream.advisory.v1.terminated" || a["stream_seq"] != float64(1) ||
			a["consumer_seq"] != float64(1) || a["deliveries"] != float64(1) || a["consumer"] != "tm" {
			t.Fatalf("terminated advisory: %v", a)
		}
		if im.name != "nats-server" {
			// [2.10+] +TERM with a reason (2.9.10 ignores the reason form).
			publishN(t, js, "a", 1)
			m, err := tsub.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Publish(m.Reply, []byte("+TERM not for us")); err != nil {
				t.Fatal(err)
			}
			a = nextAdvisory(t, term, "terminated with reason")
			if a["reason"] != "not for us" || a["stream_seq"] != float64(2) {
				t.Fatalf("terminated advisory with reason: %v", a)
			}
		}
	})
}

func TestJSPushReplayOriginalAndRateLimit(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "T", Subjects: []string{"t.>"}, MaxMsgSize: 1024})
		gaps := []time.Duration{0, 300 * time.Millisecond, 400 * time.Millisecond}
		var span time.Duration
		for i, g := range gaps {
			time.Sleep(g) // the original timing to replay
			span += g
			if _, err := js.Publish("t.r", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		sub, err := js.SubscribeSync("t.r", nats.ReplayOriginal(), nats.AckNone())
		if err != nil {
			t.Fatal(err)
		}
		var first time.Time
		for i := range gaps {
			m, err := sub.NextMsg(15 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = time.Now()
			}
			if string(m.Data) != strconv.Itoa(i) {
				t.Fatalf("replay order: message %d is %q", i, m.Data)
			}
		}
		if took, slack := time.Since(first), 150*time.Millisecond; took < span-slack {
			t.Fatalf("replay original took %v for an original span of %v", took, span)
		}
		sub.Unsubscribe()

		// rate_limit_bps: 24000 bits/s = 3000 bytes/s, burst = max_msg_size (1 KiB).
		const n = 8
		for i := 0; i < n; i++ {
			if _, err := js.Publish("t.l", []byte(strings.Repeat("l", 900))); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		lsub, err := js.SubscribeSync("t.l", nats.RateLimit(24000), nats.AckNone())
		if err != nil {
			t.Fatal(err)
		}
		defer lsub.Unsubscribe()
		for i := 0; i < n; i++ {
			if _, err := lsub.NextMsg(20 * time.Second); err != nil {
				t.Fatalf("rate-limited message %d: %v", i, err)
			}
		}
		// At least (n*900 - 1024) bytes at 3000 bytes/s, with slack.
		if took, least := time.Since(start), time.Duration((n*900-1024)*7/30)*time.Millisecond; took < least {
			t.Fatalf("rate limit: %d messages in %v (expected at least %v)", n, took, least)
		}
	})
}

func TestJSPushHeadersOnly(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "HO", Subjects: []string{"ho"}})
		msg := nats.NewMsg("ho")
		msg.Header.Set("X-Kind", "big")
		msg.Data = []byte(strings.Repeat("b", 1000))
		if _, err := js.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
		sub, err := js.SubscribeSync("ho", nats.HeadersOnly(), nats.AckNone())
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Data) != 0 || m.Header.Get("Nats-Msg-Size") != "1000" || m.Header.Get("X-Kind") != "big" {
			t.Fatalf("headers only: data %d bytes, headers %v", len(m.Data), m.Header)
		}
	})
}
