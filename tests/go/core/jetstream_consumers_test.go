package core

// JetStream pull consumers through nats.go 1.22's legacy API
// (js.PullSubscribe, sub.Fetch, msg.Ack/Nak/InProgress/Term/AckSync,
// js.ConsumerInfo), against nats-server and sluice-server. Time-driven cases
// (ack wait, max deliver) use short intervals and generous deadlines.

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func addStream(t *testing.T, js nats.JetStreamContext, cfg *nats.StreamConfig) {
	t.Helper()
	if _, err := js.AddStream(cfg); err != nil {
		t.Fatalf("add stream %s: %v", cfg.Name, err)
	}
}

func publishN(t *testing.T, js nats.JetStreamContext, subj string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if _, err := js.Publish(subj, []byte(fmt.Sprintf("m%d", i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
}

// fetchAll fetches until n messages arrived or the deadline passes.
func fetchAll(t *testing.T, sub *nats.Subscription, n int, deadline time.Duration) []*nats.Msg {
	t.Helper()
	var out []*nats.Msg
	end := time.Now().Add(deadline)
	for len(out) < n && time.Now().Before(end) {
		msgs, err := sub.Fetch(n-len(out), nats.MaxWait(time.Second))
		if err != nil && err != nats.ErrTimeout {
			t.Fatalf("fetch: %v", err)
		}
		out = append(out, msgs...)
	}
	if len(out) < n {
		t.Fatalf("fetched %d of %d messages", len(out), n)
	}
	return out
}

func consumerInfo(t *testing.T, js nats.JetStreamContext, stream, name string) *nats.ConsumerInfo {
	t.Helper()
	ci, err := js.ConsumerInfo(stream, name)
	if err != nil {
		t.Fatalf("consumer info %s/%s: %v", stream, name, err)
	}
	return ci
}

// waitInfo polls consumer info until cond holds (an event, not a speed).
func waitInfo(t *testing.T, js nats.JetStreamContext, stream, name string, what string, cond func(*nats.ConsumerInfo) bool) *nats.ConsumerInfo {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		ci := consumerInfo(t, js, stream, name)
		if cond(ci) {
			return ci
		}
		if time.Now().After(end) {
			t.Fatalf("%s: consumer info %+v", what, ci)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestJSPullFetchAckAndInfo(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
		publishN(t, js, "orders.new", 5)
		sub, err := js.PullSubscribe("orders.>", "proc", nats.AckWait(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		ci := consumerInfo(t, js, "ORDERS", "proc")
		if ci.NumPending != 5 || ci.Delivered.Consumer != 0 || ci.Config.AckPolicy != nats.AckExplicitPolicy {
			t.Fatalf("fresh consumer info %+v", ci)
		}
		msgs := fetchAll(t, sub, 3, 10*time.Second)
		for i, m := range msgs {
			md, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != "orders.new" || string(m.Data) != fmt.Sprintf("m%d", i+1) ||
				md.Sequence.Stream != uint64(i+1) || md.Sequence.Consumer != uint64(i+1) ||
				md.NumDelivered != 1 || md.Stream != "ORDERS" || md.Consumer != "proc" || md.NumPending != uint64(4-i) {
				t.Fatalf("message %d: subject %q data %q meta %+v", i, m.Subject, m.Data, md)
			}
		}
		if err := msgs[0].AckSync(); err != nil {
			t.Fatalf("ack sync: %v", err)
		}
		if err := msgs[1].Ack(); err != nil {
			t.Fatal(err)
		}
		ci = waitInfo(t, js, "ORDERS", "proc", "two acks", func(ci *nats.ConsumerInfo) bool { return ci.NumAckPending == 1 })
		if ci.Delivered.Consumer != 3 || ci.Delivered.Stream != 3 || ci.AckFloor.Consumer != 2 ||
			ci.AckFloor.Stream != 2 || ci.NumPending != 2 || ci.NumRedelivered != 0 {
			t.Fatalf("after acks: %+v", ci)
		}
		// Term counts as acknowledged.
		if err := msgs[2].Term(); err != nil {
			t.Fatal(err)
		}
		waitInfo(t, js, "ORDERS", "proc", "term", func(ci *nats.ConsumerInfo) bool {
			return ci.NumAckPending == 0 && ci.AckFloor.Stream == 3
		})
		// The rest, then an empty fetch times out.
		rest := fetchAll(t, sub, 2, 10*time.Second)
		for _, m := range rest {
			if err := m.AckSync(); err != nil {
				t.Fatal(err)
			}
		}
		if msgs, err := sub.Fetch(1, nats.MaxWait(300*time.Millisecond)); err != nats.ErrTimeout || len(msgs) != 0 {
			t.Fatalf("empty fetch: %d msgs, %v", len(msgs), err)
		}
		// Names, list, delete.
		names := []string{}
		for n := range js.ConsumerNames("ORDERS") {
			names = append(names, n)
		}
		if len(names) != 1 || names[0] != "proc" {
			t.Fatalf("names %v", names)
		}
		if err := js.DeleteConsumer("ORDERS", "proc"); err != nil {
			t.Fatal(err)
		}
		if _, err := js.ConsumerInfo("ORDERS", "proc"); errCode(err) != 10014 {
			t.Fatalf("info after delete: %v", err)
		}
	})
}

func TestJSNakInProgressAndRedelivery(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "R", Subjects: []string{"r"}})
		publishN(t, js, "r", 1)
		sub, err := js.PullSubscribe("r", "c", nats.AckWait(time.Second), nats.MaxDeliver(3))
		if err != nil {
			t.Fatal(err)
		}
		m := fetchAll(t, sub, 1, 10*time.Second)[0]
		// Nak: redelivered with delivered = 2 and a new consumer sequence.
		if err := m.Nak(); err != nil {
			t.Fatal(err)
		}
		m2 := fetchAll(t, sub, 1, 10*time.Second)[0]
		md, _ := m2.Metadata()
		if md.NumDelivered != 2 || md.Sequence.Stream != 1 || md.Sequence.Consumer != 2 {
			t.Fatalf("after nak: %+v", md)
		}
		// No ack: redelivered after ack wait (third and last delivery).
		m3 := fetchAll(t, sub, 1, 10*time.Second)[0]
		md, _ = m3.Metadata()
		if md.NumDelivered != 3 || md.Sequence.Consumer != 3 {
			t.Fatalf("after ack wait: %+v", md)
		}
		ci := consumerInfo(t, js, "R", "c")
		if ci.NumRedelivered != 1 || ci.NumAckPending != 1 || ci.Delivered.Consumer != 3 {
			t.Fatalf("info after redeliveries: %+v", ci)
		}
		// MaxDeliver reached: nothing more comes.
		if msgs, _ := sub.Fetch(1, nats.MaxWait(2500*time.Millisecond)); len(msgs) != 0 {
			md, _ := msgs[0].Metadata()
			t.Fatalf("delivered beyond max_deliver: %+v", md)
		}
		// InProgress keeps a message from being redelivered while work goes on.
		publishN(t, js, "r", 1)
		w := fetchAll(t, sub, 1, 10*time.Second)[0]
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					w.InProgress()
				}
			}
		}()
		if msgs, _ := sub.Fetch(1, nats.MaxWait(2500*time.Millisecond)); len(msgs) != 0 {
			t.Fatalf("redelivered while in progress")
		}
		close(stop)
		<-done
		if err := w.AckSync(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestJSConsumerCreateErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "E", Subjects: []string{"e.>"}})
		// [2.10+] codes (10136, 10148, 10149) are masked for the 2.9.10 reference.
		modern := im.name != "nats-server"
		cases := []struct {
			subj, body string
			code       int
		}{
			{"$JS.API.CONSUMER.CREATE.NOPE.x", `{"stream_name":"NOPE","config":{"ack_policy":"explicit"}}`, 10059},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"F","config":{}}`, 10056},
			{"$JS.API.CONSUMER.CREATE.E.x", ``, 10025},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"E","config":{"durable_name":"y"}}`, 10017},
			{"$JS.API.CONSUMER.DURABLE.CREATE.E.x", `{"stream_name":"E","config":{}}`, 10018},
			{"$JS.API.CONSUMER.CREATE.E", `{"stream_name":"E","config":{"durable_name":"d"}}`, 10020},
			{"$JS.API.CONSUMER.CREATE.E.x.e.a", `{"stream_name":"E","config":{"filter_subject":"e.b"}}`, 10131},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"E","config":{"filter_subject":"other"}}`, 10093},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"E","config":{"deliver_policy":"by_start_sequence"}}`, 10094},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"E","config":{"max_waiting":-1}}`, 10087},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"E","config":{"filter_subject":"e.a","filter_subjects":["e.b"]}}`, 10136},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"E","config":{"ack_policy":"bogus"}}`, 10025},
			{"$JS.API.CONSUMER.INFO.E.missing", ``, 10014},
			{"$JS.API.CONSUMER.DELETE.E.missing", ``, 10014},
			{"$JS.API.CONSUMER.CREATE.E.x", `{"stream_name":"E","action":"update","config":{"ack_policy":"explicit"}}`, 10149},
		}
		for _, c := range cases {
			if !modern && (c.code == 10136 || c.code == 10149) {
				continue
			}
			if got := apiErrCode(apiRequest(t, nc, c.subj, c.body)); got != c.code {
				t.Errorf("%s %s: err_code %d, want %d", c.subj, c.body, got, c.code)
			}
		}
		// Create, identical re-create, update of a fixed field, action create.
		body := `{"stream_name":"E","config":{"durable_name":"d","ack_policy":"explicit","description":"one","metadata":{"k":"v"}}}`
		r := apiRequest(t, nc, "$JS.API.CONSUMER.CREATE.E.d", body)
		if apiErrCode(r) != 0 || r["name"] != "d" {
			t.Fatalf("create: %v", r)
		}
		cfg := r["config"].(map[string]any)
		if cfg["ack_wait"].(float64) != 30e9 || cfg["max_ack_pending"].(float64) != 1000 || cfg["max_waiting"].(float64) != 512 ||
			cfg["max_deliver"].(float64) != -1 || cfg["description"] != "one" {
			t.Fatalf("defaults: %v", cfg)
		}
		if r := apiRequest(t, nc, "$JS.API.CONSUMER.CREATE.E.d", body); apiErrCode(r) != 0 {
			t.Fatalf("identical re-create: %v", r)
		}
		r = apiRequest(t, nc, "$JS.API.CONSUMER.CREATE.E.d", `{"stream_name":"E","config":{"durable_name":"d","ack_policy":"all"}}`)
		if apiErrCode(r) != 10012 || !strings.Contains(fmt.Sprint(r["error"]), "ack policy can not be updated") {
			t.Fatalf("ack policy update: %v", r)
		}
		r = apiRequest(t, nc, "$JS.API.CONSUMER.CREATE.E.d", `{"stream_name":"E","action":"create","config":{"durable_name":"d","ack_policy":"explicit"}}`)
		if modern && apiErrCode(r) != 10148 {
			t.Fatalf("action create on existing: %v", r)
		}
		// Ephemeral: a generated name, inactive_threshold default.
		r = apiRequest(t, nc, "$JS.API.CONSUMER.CREATE.E", `{"stream_name":"E","config":{"ack_policy":"explicit"}}`)
		if apiErrCode(r) != 0 || len(r["name"].(string)) == 0 || r["config"].(map[string]any)["inactive_threshold"].(float64) != 5e9 {
			t.Fatalf("ephemeral: %v", r)
		}
	})
}

func TestJSEphemeralRemovedWhenInactive(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "I", Subjects: []string{"i"}})
		r := apiRequest(t, nc, "$JS.API.CONSUMER.CREATE.I.eph", `{"stream_name":"I","config":{"ack_policy":"explicit","inactive_threshold":300000000}}`)
		if apiErrCode(r) != 0 {
			t.Fatalf("create: %v", r)
		}
		end := time.Now().Add(15 * time.Second)
		for {
			_, err := js.ConsumerInfo("I", "eph")
			if errCode(err) == 10014 {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("ephemeral consumer still there: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestJSPullStatusMessages(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "P", Subjects: []string{"p"}})
		r := apiRequest(t, nc, "$JS.API.CONSUMER.CREATE.P.c", `{"stream_name":"P","config":{"durable_name":"c","ack_policy":"explicit","max_waiting":1}}`)
		if apiErrCode(r) != 0 {
			t.Fatalf("create: %v", r)
		}
		inbox := nats.NewInbox()
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		status := func() (string, nats.Header) {
			t.Helper()
			m, err := sub.NextMsg(msgWait)
			if err != nil {
				t.Fatal(err)
			}
			return m.Header.Get("Status") + " " + m.Header.Get("Description"), m.Header
		}
		nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.P.c", inbox, []byte(`{"batch":2,"no_wait":true}`))
		if st, _ := status(); st != "404 No Messages" {
			t.Fatalf("no_wait on empty: %q", st)
		}
		nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.P.c", inbox, []byte(`{"batch":5,"expires":5000000000}`))
		nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.P.c", inbox, []byte(`{"batch":1,"expires":5000000000}`))
		if st, _ := status(); st != "409 Exceeded MaxWaiting" {
			t.Fatalf("second waiting request: %q", st)
		}
		publishN(t, js, "p", 2)
		for i := 0; i < 2; i++ {
			m, err := sub.NextMsg(msgWait)
			if err != nil || m.Subject != "p" || !strings.HasPrefix(m.Reply, "$JS.ACK.P.c.1.") {
				t.Fatalf("delivery %d: %v %+v", i, err, m)
			}
		}
		st, h := status()
		if st != "408 Request Timeout" || h.Get("Nats-Pending-Messages") != "3" || h.Get("Nats-Pending-Bytes") != "0" {
			t.Fatalf("expiry: %q %v", st, h)
		}
	})
}

func TestJSConsumerSurvivesRestart(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		for _, kill := range []bool{false, true} {
			if kill && im.name == "nats-server" {
				// 2.9.10 does not fsync a consumer's acks before AckSync's
				// reply (its sync interval is 2 min): after SIGKILL it may
				// redeliver acknowledged messages. Sluice must not.
				continue
			}
			s := startJS(t, im)
			nc := connect(t, s, nats.NoReconnect())
			js := jsCtx(t, nc)
			addStream(t, js, &nats.StreamConfig{Name: "D", Subjects: []string{"d"}})
			publishN(t, js, "d", 10)
			sub, err := js.PullSubscribe("d", "dur", nats.AckWait(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			msgs := fetchAll(t, sub, 6, 10*time.Second)
			acked := map[uint64]bool{}
			for i, m := range msgs {
				if i%2 == 0 {
					if err := m.AckSync(); err != nil {
						t.Fatal(err)
					}
					md, _ := m.Metadata()
					acked[md.Sequence.Stream] = true
				}
			}
			if kill {
				s.cmd.Process.Signal(syscall.SIGKILL)
				<-s.exited
				nc.Close()
				if err := s.launch(s.port); err != nil {
					t.Fatalf("restart: %v", err)
				}
			} else {
				nc.Close()
				s.restart()
			}
			nc2 := connect(t, s)
			js2 := jsCtx(t, nc2)
			sub2, err := js2.PullSubscribe("d", "dur", nats.AckWait(time.Second))
			if err != nil {
				t.Fatalf("rebind after restart (kill=%v): %v", kill, err)
			}
			got := []int{}
			for _, m := range fetchAll(t, sub2, 7, 15*time.Second) {
				md, _ := m.Metadata()
				if acked[md.Sequence.Stream] {
					t.Fatalf("kill=%v: acknowledged seq %d redelivered", kill, md.Sequence.Stream)
				}
				got = append(got, int(md.Sequence.Stream))
				m.AckSync()
			}
			sort.Ints(got)
			if fmt.Sprint(got) != "[2 4 6 7 8 9 10]" {
				t.Fatalf("kill=%v: after restart got %v", kill, got)
			}
			nc2.Close()
			s.stop()
		}
	})
}

func TestJSWorkQueueAndInterest(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		addStream(t, js, &nats.StreamConfig{Name: "WQ", Subjects: []string{"wq.>"}, Retention: nats.WorkQueuePolicy})
		publishN(t, js, "wq.a", 3)
		sub, err := js.PullSubscribe("wq.a", "wa")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fetchAll(t, sub, 3, 10*time.Second) {
			if err := m.AckSync(); err != nil {
				t.Fatal(err)
			}
		}
		si, err := js.StreamInfo("WQ")
		if err != nil || si.State.Msgs != 0 {
			t.Fatalf("workqueue after acks: %v %+v", err, si.State)
		}
		// Overlapping filter refused.
		if _, err := js.AddConsumer("WQ", &nats.ConsumerConfig{Durable: "wb", AckPolicy: nats.AckExplicitPolicy, FilterSubject: "wq.>"}); errCode(err) != 10100 {
			t.Fatalf("overlapping workqueue consumer: %v", err)
		}
		// Interest: nothing stored without a consumer, but the sequence is used.
		addStream(t, js, &nats.StreamConfig{Name: "IN", Subjects: []string{"in.>"}, Retention: nats.InterestPolicy})
		a, err := js.Publish("in.x", []byte("lost"))
		if err != nil || a.Sequence != 1 {
			t.Fatalf("publish without interest: %v %+v", err, a)
		}
		if _, err := js.AddConsumer("IN", &nats.ConsumerConfig{Durable: "c1", AckPolicy: nats.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.AddConsumer("IN", &nats.ConsumerConfig{Durable: "c2", AckPolicy: nats.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		a, err = js.Publish("in.x", []byte("kept"))
		if err != nil || a.Sequence != 2 {
			t.Fatalf("publish with interest: %v %+v", err, a)
		}
		s1, _ := js.PullSubscribe("in.x", "c1", nats.Bind("IN", "c1"))
		s2, _ := js.PullSubscribe("in.x", "c2", nats.Bind("IN", "c2"))
		m1 := fetchAll(t, s1, 1, 10*time.Second)[0]
		if err := m1.AckSync(); err != nil {
			t.Fatal(err)
		}
		if si, _ := js.StreamInfo("IN"); si.State.Msgs != 1 {
			t.Fatalf("interest: removed before every consumer acked: %+v", si.State)
		}
		m2 := fetchAll(t, s2, 1, 10*time.Second)[0]
		if err := m2.AckSync(); err != nil {
			t.Fatal(err)
		}
		end := time.Now().Add(10 * time.Second)
		for {
			si, _ := js.StreamInfo("IN")
			if si.State.Msgs == 0 {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("interest: still stored after both acks: %+v", si.State)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
