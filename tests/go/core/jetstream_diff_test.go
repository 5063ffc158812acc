package core

// JetStream differential tests: the same $JS.API requests and JetStream
// publishes are sent to nats-server (the Debian 2.9.10, the reference) and to
// sluice-server, both with a jetstream {} block and a temp store dir, and the
// replies are compared as JSON: the same set of fields, with the same types
// and the same values, and the same error codes and descriptions.
//
// Masks (exactly these, nothing else):
//   - volatile values: "created", "ts", "first_ts", "last_ts" and a message's
//     "time" are compared by presence and type only (all RFC 3339 strings);
//     "server_id"/"server_name" and "cluster" (2.10+ adds cluster{leader} on a
//     single server) are dropped; in the account info "api" the counters
//     ("total", "errors") are compared by type only and "level" [2.11] is
//     dropped. DIRECT.GET's Nats-Time-Stamp header is compared by presence.
//   - fields 2.11 adds that 2.9.10 lacks (DECISIONS.md: Sluice behaves as the
//     advertised 2.11): "compression", "consumer_limits", "metadata", "ts", "allow_msg_ttl",
//     "reserved_memory", "reserved_storage" are dropped from both replies
//     (a field is dropped only where 2.9.10 does not send it; when the
//     reference has it, it is compared).
//   - documented version differences, checked per side (versionDiff): an
//     update may change retention between limits and interest in 2.10+
//     (2.9.10: "stream configuration update can not change retention
//     policy"), 2.11's workqueue refusal text, and 2.10+ refusing
//     num_replicas > 1 in an update on a single server (2.9.10 stores it).
//   - a 2.9.10 bug: the account "storage" after a purge with a filter on a
//     file stream keeps the purged bytes; the final INFO masks "storage" and
//     checks sluice's against the sum of its file streams' bytes.
//   - the 2.9.10 two-space framing of PubAcks and DIRECT.GET replies and its
//     "\u003e" escaping inside JSON strings are invisible here: replies are
//     read through nats.go and decoded as JSON before comparison.
//
// Run: GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go test -count=1 -run JSDiff ./tests/go/core/

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// jsDiff is one differential session: a connection to each server.
type jsDiff struct {
	t        *testing.T
	ref, sl  *nats.Conn
	refSrv   *server
	slSrv    *server
	compared int
}

func startJSDiff(t *testing.T, extra string) *jsDiff {
	t.Helper()
	list, err := impls()
	if err != nil {
		t.Fatal(err)
	}
	conf := func() string {
		return fmt.Sprintf("jetstream {\n  store_dir: %q\n%s}\n", t.TempDir()+"/store", extra)
	}
	d := &jsDiff{t: t}
	for _, im := range list {
		s := startServer(t, im, conf())
		if im.name == "nats-server" {
			d.refSrv, d.ref = s, connect(t, s)
		} else {
			d.slSrv, d.sl = s, connect(t, s)
		}
	}
	return d
}

var volatileKeys = map[string]bool{"created": true, "ts": true, "first_ts": true, "last_ts": true, "time": true}
var droppedKeys = map[string]bool{"server_id": true, "server_name": true, "cluster": true}
var v211Keys = map[string]bool{"compression": true, "consumer_limits": true, "metadata": true, "ts": true, "allow_msg_ttl": true,
	"reserved_memory": true, "reserved_storage": true}

// mask applies the documented masks to both decoded replies in place.
func mask(ref, sl any, path string) {
	rm, ok1 := ref.(map[string]any)
	sm, ok2 := sl.(map[string]any)
	if ok1 && ok2 {
		for k := range sm {
			if _, in := rm[k]; !in && v211Keys[k] {
				delete(sm, k)
			}
		}
		for k := range rm {
			if droppedKeys[k] {
				delete(rm, k)
				delete(sm, k)
			}
		}
		for k := range sm {
			if droppedKeys[k] {
				delete(sm, k)
			}
		}
		if path == ".api" {
			delete(sm, "level")
			delete(rm, "level")
			for _, k := range []string{"total", "errors"} {
				maskType(rm, k)
				maskType(sm, k)
			}
		}
		for k, rv := range rm {
			sv, in := sm[k]
			if !in {
				continue
			}
			if volatileKeys[k] || (k == "ts" && path == "") {
				maskType(rm, k)
				maskType(sm, k)
				continue
			}
			mask(rv, sv, path+"."+k)
		}
		return
	}
	ra, ok1 := ref.([]any)
	sa, ok2 := sl.([]any)
	if ok1 && ok2 {
		for i := 0; i < len(ra) && i < len(sa); i++ {
			mask(ra[i], sa[i], fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func maskType(m map[string]any, k string) {
	if v, ok := m[k]; ok {
		m[k] = fmt.Sprintf("<%T>", v)
	}
}

// diffJSON lists the differences between two decoded values.
func diffJSON(ref, sl any, path string, out *[]string) {
	rm, ok1 := ref.(map[string]any)
	sm, ok2 := sl.(map[string]any)
	if ok1 && ok2 {
		keys := map[string]bool{}
		for k := range rm {
			keys[k] = true
		}
		for k := range sm {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			rv, rin := rm[k]
			sv, sin := sm[k]
			switch {
			case !sin:
				*out = append(*out, fmt.Sprintf("%s.%s: missing in sluice (nats-server: %v)", path, k, short(rv)))
			case !rin:
				*out = append(*out, fmt.Sprintf("%s.%s: only in sluice (%v)", path, k, short(sv)))
			default:
				diffJSON(rv, sv, path+"."+k, out)
			}
		}
		return
	}
	ra, ok1 := ref.([]any)
	sa, ok2 := sl.([]any)
	if ok1 && ok2 && len(ra) == len(sa) {
		for i := range ra {
			diffJSON(ra[i], sa[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
		return
	}
	if !reflect.DeepEqual(ref, sl) {
		*out = append(*out, fmt.Sprintf("%s: nats-server %v, sluice %v", path, short(ref), short(sl)))
	}
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func decode(t *testing.T, who string, data []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s reply is not JSON: %q", who, data)
	}
	return v
}

// compare decodes both payloads, masks them and reports every difference.
// It returns the reference reply (decoded, masked).
func (d *jsDiff) compare(what string, refData, slData []byte) map[string]any {
	d.t.Helper()
	d.compared++
	r := decode(d.t, "nats-server", refData)
	s := decode(d.t, "sluice", slData)
	mask(r, s, "")
	var diffs []string
	diffJSON(r, s, "", &diffs)
	if len(diffs) > 0 {
		d.t.Errorf("%s: replies differ:\n  %s\n nats-server: %s\n sluice:      %s", what, strings.Join(diffs, "\n  "),
			refData, slData)
	}
	m, _ := r.(map[string]any)
	return m
}

// versionDiff sends the same request to both servers where 2.9.10 and the
// advertised 2.11 answer differently: nats-server must answer refCode /
// refText (0: success), sluice slText ("": success).
func (d *jsDiff) versionDiff(subj, body string, refCode int, refText, slText string) {
	d.t.Helper()
	check := func(nc *nats.Conn, who string, code int, text string) {
		m, err := nc.Request(subj, []byte(body), msgWait)
		if err != nil {
			d.t.Fatalf("%s %s %q: %v", who, subj, body, err)
		}
		r, _ := decode(d.t, who, m.Data).(map[string]any)
		e, isErr := r["error"].(map[string]any)
		switch {
		case text == "" && code == 0 && isErr:
			d.t.Errorf("%s %s %s: %v, want success", who, subj, body, e)
		case text != "" && (!isErr || e["description"] != text):
			d.t.Errorf("%s %s %s: %s, want error %q", who, subj, body, m.Data, text)
		}
	}
	check(d.ref, "nats-server", refCode, refText)
	check(d.sl, "sluice", 0, slText)
}

// req sends the same API request to both servers and compares the replies.
func (d *jsDiff) req(subj, body string) map[string]any {
	d.t.Helper()
	rm, err := d.ref.Request(subj, []byte(body), msgWait)
	if err != nil {
		d.t.Fatalf("nats-server %s %q: %v", subj, body, err)
	}
	sm, err := d.sl.Request(subj, []byte(body), msgWait)
	if err != nil {
		d.t.Fatalf("sluice %s %q: %v", subj, body, err)
	}
	return d.compare(fmt.Sprintf("%s %s", subj, body), rm.Data, sm.Data)
}

// pub publishes the same message (with headers "K: V" pairs) to both servers
// and compares the PubAcks.
func (d *jsDiff) pub(subj, data string, hdrs ...string) map[string]any {
	d.t.Helper()
	mk := func() *nats.Msg {
		m := nats.NewMsg(subj)
		m.Data = []byte(data)
		for i := 0; i+1 < len(hdrs); i += 2 {
			m.Header.Add(hdrs[i], hdrs[i+1])
		}
		return m
	}
	rm, err := d.ref.RequestMsg(mk(), msgWait)
	if err != nil {
		d.t.Fatalf("nats-server publish %s %v: %v", subj, hdrs, err)
	}
	sm, err := d.sl.RequestMsg(mk(), msgWait)
	if err != nil {
		d.t.Fatalf("sluice publish %s %v: %v", subj, hdrs, err)
	}
	shown := data
	if len(shown) > 20 {
		shown = fmt.Sprintf("<%d bytes>", len(data))
	}
	return d.compare(fmt.Sprintf("publish %s %v %q", subj, hdrs, shown), rm.Data, sm.Data)
}

// direct sends the same DIRECT.GET to both servers and compares the status,
// the headers (Nats-Time-Stamp by presence) and the payload.
func (d *jsDiff) direct(subj, body string) {
	d.t.Helper()
	get := func(nc *nats.Conn, who string) *nats.Msg {
		m, err := nc.Request(subj, []byte(body), msgWait)
		if err != nil {
			d.t.Fatalf("%s %s %q: %v", who, subj, body, err)
		}
		return m
	}
	rm, sm := get(d.ref, "nats-server"), get(d.sl, "sluice")
	d.compared++
	norm := func(m *nats.Msg) map[string][]string {
		h := map[string][]string{}
		for k, v := range m.Header {
			h[k] = v
		}
		if _, ok := h["Nats-Time-Stamp"]; ok {
			h["Nats-Time-Stamp"] = []string{"<time>"}
		}
		return h
	}
	if !reflect.DeepEqual(norm(rm), norm(sm)) || string(rm.Data) != string(sm.Data) {
		d.t.Errorf("DIRECT.GET %s %q differs:\n nats-server %v %q\n sluice      %v %q", subj, body, rm.Header, rm.Data,
			sm.Header, sm.Data)
	}
}

func TestJSDiffStreams(t *testing.T) {
	d := startJSDiff(t, "")

	// INFO on an empty account.
	d.req("$JS.API.INFO", "")

	// CREATE: good, idempotent, different config, validation errors.
	d.req("$JS.API.STREAM.CREATE.ORDERS", `{"name":"ORDERS","subjects":["orders.>"]}`)
	d.req("$JS.API.STREAM.CREATE.ORDERS", `{"name":"ORDERS","subjects":["orders.>"]}`)
	d.req("$JS.API.STREAM.CREATE.ORDERS", `{"name":"ORDERS","subjects":["orders.>"],"max_msgs":5}`)
	d.req("$JS.API.STREAM.CREATE.MEM", `{"name":"MEM","subjects":["mem.*"],"storage":"memory","max_msgs":100,"max_bytes":100000,"max_age":60000000000,"max_msgs_per_subject":3,"max_msg_size":1000,"discard":"new","duplicate_window":1000000000,"description":"in memory","allow_direct":true,"allow_rollup_hdrs":true,"deny_delete":true}`)
	d.req("$JS.API.STREAM.CREATE.NOSUBJ", `{"name":"NOSUBJ"}`)
	bad := []struct{ name, body string }{
		{"A", ``},
		{"A", `not json`},
		{"A", `{}`},
		{"A", `{"name":"B"}`},
		{"A*", `{"name":"A*"}`},
		{"A", `{"name":"A","storage":"disk"}`},
		{"A", `{"name":"A","retention":"forever"}`},
		{"A", `{"name":"A","discard":"sometimes"}`},
		{"A", `{"name":"A","max_msgs":"ten"}`},
		{"A", `{"name":"A","max_age":1000}`},
		{"A", `{"name":"A","duplicate_window":1000}`},
		{"A", `{"name":"A","max_age":1000000000,"duplicate_window":2000000000}`},
		{"A", `{"name":"A","subjects":["a.>","a.b"]}`},
		{"A", `{"name":"A","subjects":["a","a"]}`},
		{"A", `{"name":"A","subjects":["a..b"]}`},
		{"A", `{"name":"A","subjects":["orders.new"]}`},
		{"A", `{"name":"A","subjects":[">"]}`},
		{"A", `{"name":"A","subjects":["$JS.API.>"]}`},
		{"A", `{"name":"A","sealed":true}`},
		{"A", `{"name":"A","deny_purge":true,"allow_rollup_hdrs":true}`},
		{"A", `{"name":"A","discard_new_per_subject":true}`},
		{"A", `{"name":"A","discard":"new","discard_new_per_subject":true}`},
		{"A", `{"name":"A","num_replicas":3}`},
		{"A", `{"name":"A","num_replicas":6}`},
		{"A", `{"name":"A","mirror_direct":true}`},
		{"A", `{"name":"A","max_msg_size":2000000}`},
		{"A", `{"name":"A","max_consumers":-5}`},
		{"A", `{"name":"A","description":"` + strings.Repeat("d", 4097) + `"}`},
		{"A", `{"name":"A","max_bytes":-7}`},
		{"A", `{"name":"A","max_msgs":-7}`},
		{"A", `{"name":"A","max_age":-1}`},
		{strings.Repeat("N", 256), `{"name":"` + strings.Repeat("N", 256) + `"}`},
		{"A/B", `{"name":"A/B"}`},
	}
	for _, b := range bad {
		d.req("$JS.API.STREAM.CREATE."+b.name, b.body)
	}

	// UPDATE: allowed and refused changes.
	d.req("$JS.API.STREAM.UPDATE.ORDERS", `{"name":"ORDERS","subjects":["orders.>","more.*"],"max_msgs":10,"description":"now"}`)
	d.req("$JS.API.STREAM.UPDATE.ORDERS", `{"name":"ORDERS","subjects":["orders.>"],"storage":"memory"}`)
	// Documented version differences (on a throwaway stream, since 2.9.10 and
	// 2.11 end in different configs): 2.10+ lets retention change between
	// limits and interest and words the workqueue refusal differently; 2.10+
	// refuses num_replicas > 1 in an update on a single server as it does in a
	// create (2.9.10 stores it).
	d.req("$JS.API.STREAM.CREATE.RT", `{"name":"RT","subjects":["rt"]}`)
	d.versionDiff("$JS.API.STREAM.UPDATE.RT", `{"name":"RT","subjects":["rt"],"retention":"workqueue"}`,
		10052, "stream configuration update can not change retention policy", "stream configuration update can not change retention policy to/from workqueue")
	d.versionDiff("$JS.API.STREAM.UPDATE.RT", `{"name":"RT","subjects":["rt"],"retention":"interest"}`,
		10052, "stream configuration update can not change retention policy", "")
	d.versionDiff("$JS.API.STREAM.UPDATE.RT", `{"name":"RT","subjects":["rt"],"num_replicas":3}`,
		0, "", "replicas > 1 not supported in non-clustered mode")
	d.req("$JS.API.STREAM.DELETE.RT", ``)
	d.req("$JS.API.STREAM.UPDATE.ORDERS", `{"name":"ORDERS","subjects":["mem.x"]}`)
	d.req("$JS.API.STREAM.UPDATE.ORDERS", `{"name":"OTHER","subjects":["orders.>"]}`)
	d.req("$JS.API.STREAM.UPDATE.ORDERS", ``)
	d.req("$JS.API.STREAM.UPDATE.NOPE", `{"name":"NOPE"}`)
	d.req("$JS.API.STREAM.UPDATE.MEM", `{"name":"MEM","subjects":["mem.*"],"storage":"memory","allow_direct":true,"allow_rollup_hdrs":true}`)
	d.req("$JS.API.STREAM.UPDATE.ORDERS", `{"name":"ORDERS","subjects":["orders.>"],"max_age":1000}`)
	d.req("$JS.API.STREAM.UPDATE.ORDERS", `{"name":"ORDERS","subjects":["orders.>"]}`)

	// NAMES / LIST: paging and subject filter.
	for i := 0; i < 5; i++ {
		d.req(fmt.Sprintf("$JS.API.STREAM.CREATE.P%d", i), fmt.Sprintf(`{"name":"P%d","subjects":["p%d.*"],"storage":"memory"}`, i, i))
	}
	for _, body := range []string{``, `{}`, `null`, `{"offset":2}`, `{"offset":100}`, `{"subject":"p3.x"}`,
		`{"subject":"p*.x"}`, `{"subject":"nothing"}`, `{"subject":">"}`, ` `, `{"offset":"x"}`} {
		d.req("$JS.API.STREAM.NAMES", body)
		d.req("$JS.API.STREAM.LIST", body)
	}
	d.req("$JS.API.STREAM.DELETE.P4", `{"x":1}`)
	d.req("$JS.API.STREAM.DELETE.P4", ``)
	d.req("$JS.API.STREAM.DELETE.P4", `{}`)
	d.req("$JS.API.STREAM.INFO.P4", ``)

	// Messages, then INFO with subjects_filter and deleted_details.
	for i := 0; i < 6; i++ {
		d.pub(fmt.Sprintf("orders.%d", i%3), fmt.Sprintf("m%d", i))
	}
	d.pub("orders.h", "with header", "X-A", "1", "X-B", "two")
	d.req("$JS.API.STREAM.MSG.DELETE.ORDERS", `{"seq":2}`)
	d.req("$JS.API.STREAM.MSG.DELETE.ORDERS", `{"seq":3,"no_erase":true}`)
	d.req("$JS.API.STREAM.MSG.DELETE.ORDERS", `{"seq":2}`)
	d.req("$JS.API.STREAM.MSG.DELETE.ORDERS", `{"seq":100}`)
	d.req("$JS.API.STREAM.MSG.DELETE.ORDERS", `{"seq":0}`)
	d.req("$JS.API.STREAM.MSG.DELETE.ORDERS", `{}`)
	d.req("$JS.API.STREAM.MSG.DELETE.ORDERS", ``)
	d.req("$JS.API.STREAM.MSG.DELETE.NOPE", `{"seq":1}`)
	d.req("$JS.API.STREAM.MSG.DELETE.MEM", `{"seq":1}`)
	for _, body := range []string{``, `{}`, `{"deleted_details":true}`, `{"subjects_filter":">"}`,
		`{"subjects_filter":"orders.1"}`, `{"subjects_filter":"nomatch"}`, `{"subjects_filter":"orders.*","offset":1}`,
		`{"subjects_filter":"orders.>","deleted_details":true}`, `x`} {
		d.req("$JS.API.STREAM.INFO.ORDERS", body)
	}
	d.req("$JS.API.STREAM.INFO.NOPE", ``)

	// MSG.GET.
	for _, body := range []string{`{"seq":1}`, `{"seq":2}`, `{"seq":7}`, `{"seq":99}`, `{"last_by_subj":"orders.0"}`,
		`{"last_by_subj":"orders.*"}`, `{"last_by_subj":"nothing"}`, `{"next_by_subj":"orders.1"}`,
		`{"next_by_subj":"orders.1","seq":3}`, `{"next_by_subj":"orders.0","seq":5}`, `{"next_by_subj":"orders.>","seq":2}`,
		`{}`, ``, `{"seq":0}`, `{"seq":1,"last_by_subj":"orders.0"}`, `{"last_by_subj":"a","next_by_subj":"b"}`, `nope`} {
		d.req("$JS.API.STREAM.MSG.GET.ORDERS", body)
	}
	d.req("$JS.API.STREAM.MSG.GET.NOPE", `{"seq":1}`)

	// DIRECT.GET (MEM has allow_direct).
	d.pub("mem.a", "one")
	d.pub("mem.b", "two", "X-A", "1")
	d.pub("mem.a", "three")
	for _, body := range []string{`{"seq":1}`, `{"seq":2}`, `{"last_by_subj":"mem.a"}`, `{"next_by_subj":"mem.b"}`,
		`{"next_by_subj":"mem.a","seq":2}`, `{"seq":50}`, `{"last_by_subj":"mem.zz"}`, ``, `{}`, `{"seq":0}`, `bad`,
		`{"seq":1,"last_by_subj":"mem.a"}`} {
		d.direct("$JS.API.DIRECT.GET.MEM", body)
	}
	d.direct("$JS.API.DIRECT.GET.MEM.mem.b", "")
	d.direct("$JS.API.DIRECT.GET.MEM.mem.*", "")
	d.direct("$JS.API.DIRECT.GET.MEM.mem.none", "")
	d.direct("$JS.API.DIRECT.GET.MEM.mem.a", `{"seq":1}`)

	// PURGE: filter, seq, keep (a stream without gaps: 2.9.10's keep is wrong
	// when the tail has gaps, see jetstream_streams_test.go).
	d.req("$JS.API.STREAM.CREATE.PG", `{"name":"PG","subjects":["pg.*"]}`)
	for i := 0; i < 10; i++ {
		d.pub(fmt.Sprintf("pg.%d", i%3), "x")
	}
	d.req("$JS.API.STREAM.PURGE.PG", `{"filter":"pg.0"}`)
	d.req("$JS.API.STREAM.PURGE.PG", `{"filter":"pg.1","keep":1}`)
	d.req("$JS.API.STREAM.PURGE.PG", `{"seq":3}`)
	d.req("$JS.API.STREAM.PURGE.PG", `{"filter":"pg.2","seq":9}`)
	d.req("$JS.API.STREAM.PURGE.PG", `{"seq":3,"keep":1}`)
	d.req("$JS.API.STREAM.PURGE.PG", `bad`)
	d.req("$JS.API.STREAM.INFO.PG", `{"subjects_filter":">","deleted_details":true}`)
	d.req("$JS.API.STREAM.CREATE.PK", `{"name":"PK","subjects":["pk"]}`)
	for i := 0; i < 6; i++ {
		d.pub("pk", "x")
	}
	d.req("$JS.API.STREAM.PURGE.PK", `{"keep":2}`)
	d.req("$JS.API.STREAM.PURGE.PK", ``)
	d.req("$JS.API.STREAM.INFO.PK", ``)
	d.req("$JS.API.STREAM.PURGE.NOPE", ``)
	d.req("$JS.API.STREAM.PURGE.MEM", ``)

	// Publish headers.
	d.req("$JS.API.STREAM.CREATE.H", `{"name":"H","subjects":["h.*"],"allow_rollup_hdrs":true}`)
	d.pub("h.a", "1", "Nats-Msg-Id", "id-1")
	d.pub("h.a", "1 again", "Nats-Msg-Id", "id-1")
	d.pub("h.b", "2", "Nats-Expected-Stream", "H")
	d.pub("h.b", "x", "Nats-Expected-Stream", "OTHER")
	d.pub("h.b", "3", "Nats-Expected-Last-Sequence", "2")
	d.pub("h.b", "x", "Nats-Expected-Last-Sequence", "9")
	d.pub("h.b", "x", "Nats-Expected-Last-Sequence", "abc")
	d.pub("h.b", "4", "Nats-Expected-Last-Subject-Sequence", "3")
	d.pub("h.b", "x", "Nats-Expected-Last-Subject-Sequence", "1")
	d.pub("h.c", "5", "Nats-Expected-Last-Subject-Sequence", "0")
	d.pub("h.c", "x", "Nats-Expected-Last-Subject-Sequence", "0")
	d.pub("h.d", "6", "Nats-Msg-Id", "id-6")
	d.pub("h.d", "7", "Nats-Expected-Last-Msg-Id", "id-6")
	d.pub("h.d", "x", "Nats-Expected-Last-Msg-Id", "id-6")
	d.pub("h.d", "8", "Nats-Msg-Id", "id-8")
	d.pub("h.d", "x", "Nats-Expected-Last-Msg-Id", "zzz")
	d.pub("h.d", "x", "Nats-Expected-Stream", "H", "Nats-Expected-Last-Sequence", "1")
	d.pub("h.e", "9", "Nats-Msg-Id", "id-9", "Nats-Expected-Last-Sequence", "8")
	d.pub("h.e", "x", "Nats-Msg-Id", "id-9", "Nats-Expected-Last-Sequence", "3")
	d.pub("h.r", "a")
	d.pub("h.r", "b")
	d.pub("h.r", "roll", "Nats-Rollup", "sub")
	d.req("$JS.API.STREAM.INFO.H", `{"subjects_filter":">"}`)
	d.pub("h.z", "all", "Nats-Rollup", "all")
	d.req("$JS.API.STREAM.INFO.H", `{"subjects_filter":">"}`)
	d.pub("orders.x", "x", "Nats-Rollup", "sub")
	d.req("$JS.API.STREAM.INFO.H", ``)

	// Discard new limits, message size, deny_delete / deny_purge, sealed.
	d.req("$JS.API.STREAM.CREATE.L", `{"name":"L","subjects":["l.*"],"max_msgs":2,"discard":"new","max_msg_size":10,"storage":"memory"}`)
	d.pub("l.a", "1")
	d.pub("l.a", "2")
	d.pub("l.a", "3")
	d.pub("l.a", "0123456789a")
	d.req("$JS.API.STREAM.CREATE.LB", `{"name":"LB","subjects":["lb"],"max_bytes":100,"discard":"new"}`)
	d.pub("lb", strings.Repeat("b", 40))
	d.pub("lb", strings.Repeat("b", 40))
	d.pub("lb", strings.Repeat("b", 40))
	d.req("$JS.API.STREAM.CREATE.LS", `{"name":"LS","subjects":["ls.*"],"max_msgs_per_subject":1,"discard":"new","discard_new_per_subject":true}`)
	d.pub("ls.a", "1")
	d.pub("ls.a", "2")
	d.pub("ls.b", "3")
	d.req("$JS.API.STREAM.CREATE.D", `{"name":"D","subjects":["d"],"deny_delete":true,"deny_purge":true}`)
	d.pub("d", "1")
	d.req("$JS.API.STREAM.MSG.DELETE.D", `{"seq":1}`)
	d.req("$JS.API.STREAM.PURGE.D", ``)
	d.pub("d", "x", "Nats-Rollup", "all")
	d.req("$JS.API.STREAM.UPDATE.D", `{"name":"D","subjects":["d"]}`)
	d.req("$JS.API.STREAM.UPDATE.D", `{"name":"D","subjects":["d"],"deny_delete":true}`)
	d.req("$JS.API.STREAM.UPDATE.PK", `{"name":"PK","subjects":["pk"],"sealed":true}`)
	d.pub("pk", "x")
	d.req("$JS.API.STREAM.PURGE.PK", ``)
	d.req("$JS.API.STREAM.MSG.DELETE.PK", `{"seq":6}`)
	d.req("$JS.API.STREAM.UPDATE.PK", `{"name":"PK","subjects":["pk"]}`)
	d.req("$JS.API.STREAM.UPDATE.PK", `{"name":"PK","subjects":["pk"],"sealed":true,"deny_delete":true,"deny_purge":true,"discard":"new"}`)

	// Accounting at the end (api counters masked). 2.9.10 does not give back
	// to the account the bytes that a purge with a filter removes from a file
	// stream (its stream state is right), so after the filtered purges above
	// its "storage" is too high: sluice's is checked against the sum of its
	// file streams' bytes instead.
	rm, err := d.ref.Request("$JS.API.INFO", nil, msgWait)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := d.sl.Request("$JS.API.INFO", nil, msgWait)
	if err != nil {
		t.Fatal(err)
	}
	var slInfo struct {
		Storage uint64 `json:"storage"`
	}
	json.Unmarshal(sm.Data, &slInfo)
	var refInfo, slMasked map[string]any
	json.Unmarshal(rm.Data, &refInfo)
	json.Unmarshal(sm.Data, &slMasked)
	refInfo["storage"], slMasked["storage"] = "<masked>", "<masked>"
	rb, _ := json.Marshal(refInfo)
	sb, _ := json.Marshal(slMasked)
	d.compare("$JS.API.INFO (storage masked)", rb, sb)
	list := d.req("$JS.API.STREAM.LIST", "")
	var fileBytes uint64
	for _, si := range list["streams"].([]any) {
		si := si.(map[string]any)
		if si["config"].(map[string]any)["storage"] == "file" {
			n, _ := si["state"].(map[string]any)["bytes"].(json.Number).Int64()
			fileBytes += uint64(n)
		}
	}
	if slInfo.Storage != fileBytes {
		t.Errorf("sluice account storage %d, its file streams hold %d bytes", slInfo.Storage, fileBytes)
	}
	t.Logf("%d replies compared", d.compared)
	if d.compared < 150 {
		t.Errorf("only %d replies compared", d.compared)
	}
}

// Account limits from the server config (jetstream { max_mem, max_file }).
func TestJSDiffResourceLimits(t *testing.T) {
	for _, extra := range []string{"", "  max_mem: 10000\n  max_file: 20000\n"} {
		extra := extra
		t.Run(fmt.Sprintf("limits=%v", extra != ""), func(t *testing.T) {
			d := startJSDiff(t, extra)
			d.req("$JS.API.INFO", "")
			if extra == "" {
				return
			}
			d.req("$JS.API.STREAM.CREATE.BIGM", `{"name":"BIGM","storage":"memory","max_bytes":20000}`)
			d.req("$JS.API.STREAM.CREATE.BIGF", `{"name":"BIGF","max_bytes":30000}`)
			d.req("$JS.API.STREAM.CREATE.M1", `{"name":"M1","storage":"memory","max_bytes":6000}`)
			d.req("$JS.API.STREAM.CREATE.M2", `{"name":"M2","storage":"memory","max_bytes":6000}`)
			d.req("$JS.API.STREAM.CREATE.F1", `{"name":"F1","max_bytes":15000}`)
			d.req("$JS.API.STREAM.CREATE.F2", `{"name":"F2","max_bytes":15000}`)
			d.req("$JS.API.STREAM.CREATE.MU", `{"name":"MU","storage":"memory"}`)
			d.req("$JS.API.STREAM.CREATE.FU", `{"name":"FU"}`)
			d.req("$JS.API.STREAM.UPDATE.M1", `{"name":"M1","storage":"memory","max_bytes":9000}`)
			d.req("$JS.API.STREAM.UPDATE.M1", `{"name":"M1","storage":"memory","max_bytes":20000}`)
			d.req("$JS.API.INFO", "")
			// Publishing past the server's memory: unlimited stream MU.
			payload := strings.Repeat("m", 1000)
			for i := 0; i < 14; i++ {
				d.pub("MU", payload)
			}
			d.req("$JS.API.INFO", "")
			d.req("$JS.API.STREAM.INFO.MU", "")
			start := time.Now()
			_ = start
		})
	}
}
