package core

// JetStream streams through nats.go 1.22's legacy API (js.AddStream,
// js.Publish, ...), against nats-server and sluice-server started with a
// jetstream {} block and a temp store dir.

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func startJS(t *testing.T, im impl) *server {
	t.Helper()
	storeDir := filepath.Join(t.TempDir(), "store")
	return startServer(t, im, fmt.Sprintf("jetstream {\n  store_dir: %q\n}\n", storeDir))
}

func jsCtx(t *testing.T, nc *nats.Conn, opts ...nats.JSOpt) nats.JetStreamContext {
	t.Helper()
	js, err := nc.JetStream(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// errCode is the JetStream err_code inside err (0 when none).
func errCode(err error) int {
	var je nats.JetStreamError
	if errors.As(err, &je) && je.APIError() != nil {
		return int(je.APIError().ErrorCode)
	}
	var ae *nats.APIError
	if errors.As(err, &ae) {
		return int(ae.ErrorCode)
	}
	return 0
}

// apiRequest sends a raw API request and decodes the JSON reply.
func apiRequest(t *testing.T, nc *nats.Conn, subj, body string) map[string]any {
	t.Helper()
	m, err := nc.Request(subj, []byte(body), msgWait)
	if err != nil {
		t.Fatalf("request %s %q: %v", subj, body, err)
	}
	var out map[string]any
	if err := json.Unmarshal(m.Data, &out); err != nil {
		t.Fatalf("reply to %s is not JSON: %q", subj, m.Data)
	}
	return out
}

func apiErrCode(reply map[string]any) int {
	e, ok := reply["error"].(map[string]any)
	if !ok {
		return 0
	}
	return int(e["err_code"].(float64))
}

func TestJSStreamCreateAndValidate(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)

		ai, err := js.AccountInfo()
		if err != nil {
			t.Fatalf("AccountInfo: %v", err)
		}
		if ai.Streams != 0 {
			t.Errorf("streams = %d", ai.Streams)
		}

		cfg := &nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}
		si, err := js.AddStream(cfg)
		if err != nil {
			t.Fatalf("AddStream: %v", err)
		}
		c := si.Config
		if c.Retention != nats.LimitsPolicy || c.MaxMsgs != -1 || c.MaxBytes != -1 || c.MaxConsumers != -1 ||
			c.MaxMsgsPerSubject != -1 || c.MaxMsgSize != -1 || c.Storage != nats.FileStorage || c.Replicas != 1 ||
			c.Duplicates != 2*time.Minute || c.Discard != nats.DiscardOld {
			t.Errorf("defaults not written back: %+v", c)
		}
		if si.State.Msgs != 0 || si.State.LastSeq != 0 || si.Created.IsZero() {
			t.Errorf("state: %+v created %v", si.State, si.Created)
		}
		// Idempotent create; a different config is refused.
		if _, err := js.AddStream(cfg); err != nil {
			t.Errorf("re-create with the same config: %v", err)
		}
		_, err = js.AddStream(&nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, MaxMsgs: 5})
		if errCode(err) != 10058 {
			t.Errorf("different config: %v (code %d), want 10058", err, errCode(err))
		}
		_, err = js.AddStream(&nats.StreamConfig{Name: "OTHER", Subjects: []string{"orders.new"}})
		if errCode(err) != 10065 {
			t.Errorf("overlap: %v, want 10065", err)
		}
		_, err = js.AddStream(&nats.StreamConfig{Name: "R3", Replicas: 3})
		if errCode(err) != 10074 {
			t.Errorf("replicas 3: %v, want 10074", err)
		}
		// Server-side validation through raw requests.
		cases := []struct{ subj, body string; code int; text string }{
			{"$JS.API.STREAM.CREATE.A", "", 10025, "invalid JSON"},
			{"$JS.API.STREAM.CREATE.A", "{}", 10056, "stream name in subject does not match request"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"B"}`, 10056, ""},
			{"$JS.API.STREAM.CREATE.A*", `{"name":"A*"}`, 10052, "stream name is required and can not contain '.', '*', '>'"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","storage":"disk"}`, 10025, ""},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","max_age":1000}`, 10052, "max age needs to be >= 100ms"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","duplicate_window":1000}`, 10052, "duplicates window needs to be >= 100ms"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","max_age":1000000000,"duplicate_window":2000000000}`, 10052, "duplicates window can not be larger then max age"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","subjects":["a.>","a.b"]}`, 10052, ""},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","subjects":["a","a"]}`, 10052, "duplicate subjects detected"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","subjects":["a..b"]}`, 10052, "invalid subject"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","sealed":true}`, 10052, "stream configuration for create can not be sealed"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","deny_purge":true,"allow_rollup_hdrs":true}`, 10052, "roll-ups require the purge permission"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","discard_new_per_subject":true}`, 10052, "discard new per subject requires discard new policy to be set"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","num_replicas":6}`, 10052, "maximum replicas is 5"},
			{"$JS.API.STREAM.CREATE.A", `{"name":"A","subjects":["$JS.API.>"]}`, 10052, "subjects overlap with jetstream api"},
			{"$JS.API.STREAM.INFO.NOPE", "", 10059, "stream not found"},
			{"$JS.API.STREAM.DELETE.ORDERS", `{"x":1}`, 10038, "expected an empty request payload"},
			{"$JS.API.STREAM.MSG.GET.ORDERS", `{}`, 10003, "bad request"},
			{"$JS.API.STREAM.MSG.GET.ORDERS", `{"seq":1}`, 10037, "no message found"},
			{"$JS.API.STREAM.MSG.DELETE.ORDERS", `{}`, 10003, "bad request"},
			{"$JS.API.STREAM.PURGE.ORDERS", `{"seq":3,"keep":1}`, 10003, "bad request"},
		}
		for _, tc := range cases {
			r := apiRequest(t, nc, tc.subj, tc.body)
			if got := apiErrCode(r); got != tc.code {
				t.Errorf("%s %s: err_code %d, want %d (%v)", tc.subj, tc.body, got, tc.code, r)
				continue
			}
			if tc.text != "" {
				if d := r["error"].(map[string]any)["description"]; d != tc.text {
					t.Errorf("%s %s: description %q, want %q", tc.subj, tc.body, d, tc.text)
				}
			}
		}
		// Update: limits change, storage cannot.
		cfg.MaxMsgs = 10
		si, err = js.UpdateStream(cfg)
		if err != nil || si.Config.MaxMsgs != 10 {
			t.Fatalf("UpdateStream: %v %+v", err, si)
		}
		_, err = js.UpdateStream(&nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: nats.MemoryStorage})
		if errCode(err) != 10052 {
			t.Errorf("storage change: %v, want 10052", err)
		}
		_, err = js.UpdateStream(&nats.StreamConfig{Name: "NOPE"})
		if !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("update missing: %v", err)
		}
		// Names and list.
		if _, err := js.AddStream(&nats.StreamConfig{Name: "MEM", Subjects: []string{"mem.*"}, Storage: nats.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		var names []string
		for n := range js.StreamNames() {
			names = append(names, n)
		}
		if !reflect.DeepEqual(names, []string{"MEM", "ORDERS"}) {
			t.Errorf("StreamNames = %v", names)
		}
		var infos []string
		for i := range js.Streams() {
			infos = append(infos, i.Config.Name)
		}
		if len(infos) != 2 {
			t.Errorf("Streams = %v", infos)
		}
		if n, err := js.StreamNameBySubject("mem.x"); err != nil || n != "MEM" {
			t.Errorf("StreamNameBySubject = %q %v", n, err)
		}
		r := apiRequest(t, nc, "$JS.API.STREAM.NAMES", `{"subject":"nothing.here"}`)
		if r["total"].(float64) != 0 || r["streams"] != nil {
			t.Errorf("names with a filter matching nothing: %v", r)
		}
		if err := js.DeleteStream("MEM"); err != nil {
			t.Fatal(err)
		}
		if _, err := js.StreamInfo("MEM"); !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("info after delete: %v", err)
		}
		if err := js.DeleteStream("MEM"); !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		ai, err = js.AccountInfo()
		if err != nil || ai.Streams != 1 || ai.API.Total == 0 || ai.API.Errors == 0 {
			t.Errorf("AccountInfo after: %+v %v", ai, err)
		}
	})
}

func TestJSPublishHeadersAndMessages(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		if _, err := js.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowRollup: true, AllowDirect: true}); err != nil {
			t.Fatal(err)
		}
		ack, err := js.Publish("s.a", []byte("one"), nats.MsgId("id-1"))
		if err != nil || ack.Stream != "S" || ack.Sequence != 1 || ack.Duplicate {
			t.Fatalf("publish: %+v %v", ack, err)
		}
		ack, err = js.Publish("s.a", []byte("one again"), nats.MsgId("id-1"))
		if err != nil || ack.Sequence != 1 || !ack.Duplicate {
			t.Fatalf("duplicate: %+v %v", ack, err)
		}
		ack, err = js.Publish("s.b", []byte("two"), nats.ExpectLastSequence(1), nats.ExpectStream("S"), nats.ExpectLastMsgId("id-1"))
		if err != nil || ack.Sequence != 2 {
			t.Fatalf("expectations met: %+v %v", ack, err)
		}
		if _, err = js.Publish("s.b", nil, nats.ExpectLastSequence(7)); errCode(err) != 10071 || !strings.Contains(err.Error(), "wrong last sequence: 2") {
			t.Errorf("wrong last seq: %v", err)
		}
		if _, err = js.Publish("s.b", nil, nats.ExpectStream("T")); errCode(err) != 10060 {
			t.Errorf("wrong stream: %v", err)
		}
		if _, err = js.Publish("s.b", nil, nats.ExpectLastMsgId("zzz")); errCode(err) != 10070 {
			t.Errorf("wrong last msg id: %v", err)
		}
		if _, err = js.Publish("s.b", nil, nats.ExpectLastSequencePerSubject(1)); errCode(err) != 10071 {
			t.Errorf("wrong last subject seq: %v", err)
		}
		if ack, err = js.Publish("s.b", []byte("three"), nats.ExpectLastSequencePerSubject(2)); err != nil || ack.Sequence != 3 {
			t.Errorf("right last subject seq: %+v %v", ack, err)
		}
		if ack, err = js.Publish("s.c", []byte("four"), nats.ExpectLastSequencePerSubject(0)); err != nil || ack.Sequence != 4 {
			t.Errorf("new subject with expected 0: %+v %v", ack, err)
		}
		// Messages.
		hm := nats.NewMsg("s.h")
		hm.Header.Set("X-A", "1")
		hm.Data = []byte("with header")
		if ack, err = js.PublishMsg(hm); err != nil || ack.Sequence != 5 {
			t.Fatalf("publish with header: %+v %v", ack, err)
		}
		m, err := js.GetMsg("S", 5)
		if err != nil || m.Subject != "s.h" || string(m.Data) != "with header" || m.Header.Get("X-A") != "1" || m.Time.IsZero() {
			t.Fatalf("GetMsg: %+v %v", m, err)
		}
		m, err = js.GetLastMsg("S", "s.b")
		if err != nil || m.Sequence != 3 || string(m.Data) != "three" {
			t.Fatalf("GetLastMsg: %+v %v", m, err)
		}
		// Direct get (allow_direct) through nats.go's DirectGet option.
		m, err = js.GetMsg("S", 2, nats.DirectGet())
		if err != nil || m.Subject != "s.b" || string(m.Data) != "two" {
			t.Fatalf("direct GetMsg: %+v %v", m, err)
		}
		m, err = js.GetLastMsg("S", "s.h", nats.DirectGet())
		if err != nil || m.Sequence != 5 || m.Header.Get("X-A") != "1" {
			t.Fatalf("direct GetLastMsg: %+v %v", m, err)
		}
		if _, err = js.GetMsg("S", 99, nats.DirectGet()); !errors.Is(err, nats.ErrMsgNotFound) {
			t.Errorf("direct get miss: %v", err)
		}
		r := apiRequest(t, nc, "$JS.API.STREAM.MSG.GET.S", `{"next_by_subj":"s.b","seq":3}`)
		if msg, ok := r["message"].(map[string]any); !ok || msg["seq"].(float64) != 3 {
			t.Errorf("next_by_subj: %v", r)
		}
		if err := js.DeleteMsg("S", 1); err != nil {
			t.Fatalf("DeleteMsg: %v", err)
		}
		if _, err := js.GetMsg("S", 1); !errors.Is(err, nats.ErrMsgNotFound) {
			t.Errorf("GetMsg deleted: %v", err)
		}
		if err := js.DeleteMsg("S", 1); errCode(err) != 10057 {
			t.Errorf("delete twice: %v", err)
		}
		if err := js.DeleteMsg("S", 100); errCode(err) != 10057 {
			t.Errorf("delete beyond the end: %v", err)
		}
		if err := js.SecureDeleteMsg("S", 2); err != nil {
			t.Errorf("SecureDeleteMsg: %v", err)
		}
		si, err := js.StreamInfo("S")
		if err != nil || si.State.Msgs != 3 || si.State.FirstSeq != 3 || si.State.LastSeq != 5 || si.State.NumSubjects != 3 {
			t.Fatalf("info: %+v %v", si.State, err)
		}
		// Rollup of a subject.
		for i := 0; i < 3; i++ {
			js.Publish("s.r", []byte("x"))
		}
		rm := nats.NewMsg("s.r")
		rm.Header.Set("Nats-Rollup", "sub")
		rm.Data = []byte("rolled")
		if _, err := js.PublishMsg(rm); err != nil {
			t.Fatalf("rollup: %v", err)
		}
		r = apiRequest(t, nc, "$JS.API.STREAM.INFO.S", `{"subjects_filter":"s.r"}`)
		state := r["state"].(map[string]any)
		if subs := state["subjects"].(map[string]any); subs["s.r"].(float64) != 1 {
			t.Errorf("after rollup: %v", state)
		}
		// Purge with filter and keep.
		if err := js.PurgeStream("S", &nats.StreamPurgeRequest{Subject: "s.r"}); err != nil {
			t.Fatalf("purge filter: %v", err)
		}
		si, _ = js.StreamInfo("S")
		if si.State.Msgs != 3 || si.State.LastSeq != 9 {
			t.Errorf("after the filtered purge: %+v", si.State)
		}
		// keep (on a stream without gaps: nats-server 2.9.10 purges by
		// sequence arithmetic and removes too much when the tail has gaps).
		if _, err := js.AddStream(&nats.StreamConfig{Name: "P", Subjects: []string{"p.*"}}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			js.Publish(fmt.Sprintf("p.%d", i%2), []byte("x"))
		}
		if err := js.PurgeStream("P", &nats.StreamPurgeRequest{Keep: 1, Subject: "p.0"}); err != nil {
			t.Fatalf("purge keep: %v", err)
		}
		if err := js.PurgeStream("P", &nats.StreamPurgeRequest{Keep: 2}); err != nil {
			t.Fatalf("purge keep: %v", err)
		}
		if si, _ := js.StreamInfo("P"); si.State.Msgs != 2 || si.State.FirstSeq != 5 || si.State.LastSeq != 6 {
			t.Errorf("after keep purges: %+v", si.State)
		}
		if err := js.PurgeStream("S"); err != nil {
			t.Fatal(err)
		}
		si, _ = js.StreamInfo("S")
		if si.State.Msgs != 0 || si.State.FirstSeq != 10 || si.State.LastSeq != 9 {
			t.Errorf("after purge all: %+v", si.State)
		}
		// Sealed: publishes refused.
		cfg := si.Config
		cfg.Sealed = true
		if si, err = js.UpdateStream(&cfg); err != nil || !si.Config.Sealed || !si.Config.DenyDelete {
			t.Fatalf("seal: %v %+v", err, si)
		}
		if _, err := js.Publish("s.a", nil); errCode(err) != 10109 {
			t.Errorf("publish to sealed: %v", err)
		}
	})
}

func TestJSLimitsAndDiscardNew(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		if _, err := js.AddStream(&nats.StreamConfig{Name: "L", Subjects: []string{"l.*"}, MaxMsgs: 2, Discard: nats.DiscardNew,
			MaxMsgSize: 10, Storage: nats.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		js.Publish("l.a", []byte("1"))
		js.Publish("l.a", []byte("2"))
		if _, err := js.Publish("l.a", []byte("3")); errCode(err) != 10077 || !strings.Contains(err.Error(), "maximum messages exceeded") {
			t.Errorf("discard new: %v", err)
		}
		if _, err := js.Publish("l.a", []byte("01234567890")); errCode(err) != 10054 {
			t.Errorf("too large: %v", err)
		}
		if _, err := js.AddStream(&nats.StreamConfig{Name: "O", Subjects: []string{"o"}, MaxMsgs: 3}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			if _, err := js.Publish("o", []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		si, _ := js.StreamInfo("O")
		if si.State.Msgs != 3 || si.State.FirstSeq != 8 {
			t.Errorf("discard old: %+v", si.State)
		}
		// max_age expiry (generous deadline, no speed assertion).
		if _, err := js.AddStream(&nats.StreamConfig{Name: "AGE", Subjects: []string{"age"}, MaxAge: 300 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		js.Publish("age", []byte("x"))
		deadline := time.Now().Add(15 * time.Second)
		for {
			si, _ := js.StreamInfo("AGE")
			if si.State.Msgs == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("message did not expire: %+v", si.State)
			}
			time.Sleep(50 * time.Millisecond) // polling for an event, not timing it
		}
	})
}

// Acks come back in publish order, each for its own message.
func TestJSAcksInOrder(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		if _, err := js.AddStream(&nats.StreamConfig{Name: "Q", Subjects: []string{"q.>"}}); err != nil {
			t.Fatal(err)
		}
		const n = 3000
		got := make(chan *nats.Msg, n)
		sub, err := nc.ChanSubscribe("acks.>", got)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		for i := 0; i < n; i++ {
			m := nats.NewMsg("q.x")
			m.Reply = fmt.Sprintf("acks.%d", i)
			m.Data = []byte("data")
			if i%7 == 3 { // a duplicate of the previous message's id
				m.Header.Set("Nats-Msg-Id", fmt.Sprintf("id-%d", i-1))
			} else {
				m.Header.Set("Nats-Msg-Id", fmt.Sprintf("id-%d", i))
			}
			if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
		}
		var seq uint64
		for i := 0; i < n; i++ {
			var m *nats.Msg
			select {
			case m = <-got:
			case <-time.After(msgWait):
				t.Fatalf("ack %d missing", i)
			}
			if m.Subject != fmt.Sprintf("acks.%d", i) {
				t.Fatalf("ack %d arrived as %s", i, m.Subject)
			}
			var ack struct {
				Stream    string `json:"stream"`
				Seq       uint64 `json:"seq"`
				Duplicate bool   `json:"duplicate"`
			}
			if err := json.Unmarshal(m.Data, &ack); err != nil {
				t.Fatalf("ack %q: %v", m.Data, err)
			}
			if i%7 == 3 {
				if !ack.Duplicate || ack.Seq != seq {
					t.Fatalf("ack %d: %+v, want duplicate of %d", i, ack, seq)
				}
				continue
			}
			seq++
			if ack.Stream != "Q" || ack.Seq != seq || ack.Duplicate {
				t.Fatalf("ack %d: %+v, want seq %d", i, ack, seq)
			}
		}
		// The async API with thousands outstanding.
		futures := make([]nats.PubAckFuture, 0, n)
		for i := 0; i < n; i++ {
			f, err := js.PublishAsync("q.y", []byte("a"))
			if err != nil {
				t.Fatal(err)
			}
			futures = append(futures, f)
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			t.Fatal("async publishes not acknowledged")
		}
		for i, f := range futures {
			select {
			case a := <-f.Ok():
				if a.Sequence != seq+uint64(i)+1 {
					t.Fatalf("future %d: seq %d, want %d", i, a.Sequence, seq+uint64(i)+1)
				}
			case err := <-f.Err():
				t.Fatalf("future %d: %v", i, err)
			}
		}
	})
}

func TestJSRestartKeepsFileStreams(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s)
		js := jsCtx(t, nc)
		if _, err := js.AddStream(&nats.StreamConfig{Name: "F", Subjects: []string{"f.*"}, MaxMsgsPerSubject: 5, Description: "kept"}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.AddStream(&nats.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: nats.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50; i++ {
			if _, err := js.Publish(fmt.Sprintf("f.%d", i%4), []byte(fmt.Sprintf("msg-%d", i)), nats.MsgId(fmt.Sprintf("m%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		js.Publish("m", []byte("gone"))
		if err := js.DeleteMsg("F", 40); err != nil {
			t.Fatal(err)
		}
		before, err := js.StreamInfo("F")
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
		s.restart() // SIGTERM, then start on the same store dir

		nc = connect(t, s)
		js = jsCtx(t, nc)
		after, err := js.StreamInfo("F")
		if err != nil {
			t.Fatalf("after restart: %v", err)
		}
		if !reflect.DeepEqual(before.Config, after.Config) || !reflect.DeepEqual(before.State, after.State) ||
			!before.Created.Equal(after.Created) {
			t.Errorf("stream changed across restart:\n before %+v %+v\n after  %+v %+v", before.Config, before.State, after.Config, after.State)
		}
		if _, err := js.StreamInfo("M"); !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("memory stream after restart: %v", err)
		}
		ack, err := js.Publish("f.1", []byte("again"), nats.MsgId("m49"))
		if err != nil || !ack.Duplicate || ack.Sequence != 50 {
			t.Errorf("dedup across restart: %+v %v", ack, err)
		}
		m, err := js.GetMsg("F", 49)
		if err != nil || string(m.Data) != "msg-48" {
			t.Errorf("GetMsg after restart: %+v %v", m, err)
		}
	})
}

// SIGKILL while publishing: every acknowledged message survives.
func TestJSKillKeepsAcknowledged(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		nc := connect(t, s, nats.NoReconnect())
		js := jsCtx(t, nc)
		if _, err := js.AddStream(&nats.StreamConfig{Name: "K", Subjects: []string{"k"}}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		acked := map[uint64]string{}
		enough, reached := signal()
		go func() {
			for i := 0; ; i++ {
				data := fmt.Sprintf("payload-%d", i)
				f, err := js.PublishAsync("k", []byte(data))
				if err != nil {
					return
				}
				go func() {
					select {
					case a := <-f.Ok():
						mu.Lock()
						acked[a.Sequence] = data
						if len(acked) >= 500 {
							reached()
						}
						mu.Unlock()
					case <-f.Err():
					}
				}()
				if i%200 == 199 {
					select {
					case <-js.PublishAsyncComplete():
					case <-time.After(5 * time.Second):
						return
					}
				}
			}
		}()
		waitFor(t, enough, 30*time.Second, "500 acknowledged publishes")
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
		nc.Close()
		mu.Lock()
		snapshot := map[uint64]string{}
		for k, v := range acked {
			snapshot[k] = v
		}
		mu.Unlock()
		if err := s.launch(s.port); err != nil {
			t.Fatalf("restart: %v", err)
		}
		nc2 := connect(t, s)
		js2 := jsCtx(t, nc2)
		for seq, data := range snapshot {
			m, err := js2.GetMsg("K", seq)
			if err != nil || string(m.Data) != data {
				t.Fatalf("acknowledged seq %d lost: %v %+v", seq, err, m)
			}
		}
	})
}
