package core

// Monitoring endpoints read with Go's net/http client, as dashboards and
// scripts read them: /varz, /connz (subs, sort, offset/limit, state=closed,
// auth), /subsz, /healthz; the JSON shapes compared between nats-server and
// sluice; and the endpoints polled while a publish flood runs.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// monitored is a server started with -m <free port>.
type monitored struct {
	*server
	httpPort int
	base     string
	client   *http.Client
}

// startMonitored starts im with `-m <free port>` (plus -c when config != "").
func startMonitored(t *testing.T, im impl, config string) *monitored {
	t.Helper()
	s := &server{t: t, im: im, dir: t.TempDir()}
	if config != "" {
		s.conf = filepath.Join(s.dir, "server.conf")
		if err := os.WriteFile(s.conf, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err1 := freePort()
		hport, err2 := freePort()
		if err1 != nil || err2 != nil || port == hport {
			continue
		}
		if lastErr = launchMonitored(s, port, hport); lastErr == nil {
			t.Cleanup(s.stop)
			m := &monitored{server: s, httpPort: hport,
				base:   fmt.Sprintf("http://127.0.0.1:%d", hport),
				client: &http.Client{Timeout: 10 * time.Second}}
			t.Cleanup(m.client.CloseIdleConnections)
			return m
		}
		t.Logf("start attempt %d failed: %v", attempt+1, lastErr)
	}
	t.Fatalf("could not start %s with -m: %v\n%s", im.name, lastErr, s.logTail())
	return nil
}

// launchMonitored is the harness's launch with -m: once the client port
// greets, it also waits for an HTTP answer on the monitoring port.
func launchMonitored(s *server, port, hport int) error {
	s.extra = []string{"-m", strconv.Itoa(hport)}
	if err := s.launch(port); err != nil {
		return err
	}
	probe := &http.Client{Timeout: time.Second}
	defer probe.CloseIdleConnections()
	deadline := time.Now().Add(startTimeout)
	for {
		if resp, err := probe.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", hport)); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("no HTTP on %d within %v", hport, startTimeout)
		}
		// Polling: a starting process offers no readiness signal but its ports.
		time.Sleep(20 * time.Millisecond)
	}
}

// get fetches path and returns status, content type and body.
func (m *monitored) get(path string) (int, string, []byte, error) {
	resp, err := m.client.Get(m.base + path)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, err
}

// getJSON fetches path, requires 200 and application/json, and decodes it.
func (m *monitored) getJSON(t *testing.T, path string) map[string]interface{} {
	t.Helper()
	status, ctype, body, err := m.get(path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, status, body)
	}
	if !strings.HasPrefix(ctype, "application/json") {
		t.Errorf("GET %s: Content-Type %q", path, ctype)
	}
	var v map[string]interface{}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return v
}

// pollJSON fetches path until cond holds (deadline-based).
func (m *monitored) pollJSON(t *testing.T, path string, what string, cond func(map[string]interface{}) bool) map[string]interface{} {
	t.Helper()
	deadline := time.Now().Add(authWait)
	for {
		v := m.getJSON(t, path)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(v, "", "  ")
			t.Fatalf("GET %s: %s not reached within %v; last:\n%s", path, what, authWait, b)
		}
	}
}

func num(t *testing.T, v map[string]interface{}, key string) float64 {
	t.Helper()
	f, ok := v[key].(float64)
	if !ok {
		t.Fatalf("%q is %T (%v), want a number", key, v[key], v[key])
	}
	return f
}

func conns(t *testing.T, v map[string]interface{}) []map[string]interface{} {
	t.Helper()
	list, ok := v["connections"].([]interface{})
	if !ok {
		t.Fatalf("connections is %T", v["connections"])
	}
	out := make([]map[string]interface{}, 0, len(list))
	for _, e := range list {
		out = append(out, e.(map[string]interface{}))
	}
	return out
}

func byName(list []map[string]interface{}, name string) map[string]interface{} {
	for _, c := range list {
		if c["name"] == name {
			return c
		}
	}
	return nil
}

func TestMonitorVarz(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		m := startMonitored(t, im, "max_payload: 512KB\nmax_connections: 100\n")
		v := m.getJSON(t, "/varz")
		if id, _ := v["server_id"].(string); id == "" {
			t.Errorf("server_id %v", v["server_id"])
		}
		if im.version != "" && v["version"] != im.version {
			t.Errorf("version %v, want %s", v["version"], im.version)
		}
		for key, want := range map[string]float64{"port": float64(m.port), "http_port": float64(m.httpPort),
			"max_payload": 512 * 1024, "max_connections": 100, "ping_max": 2,
			"ping_interval": 120e9, "write_deadline": 10e9, "auth_timeout": 2} {
			if got := num(t, v, key); got != want {
				t.Errorf("%s = %v, want %v", key, got, want)
			}
		}
		if v["host"] != "127.0.0.1" {
			t.Errorf("host %v", v["host"])
		}
		baseSubs := num(t, v, "subscriptions")
		baseIn := num(t, v, "in_msgs")
		baseTotal := num(t, v, "total_connections")

		a := connect(t, m.server)
		b := connect(t, m.server)
		sub, err := b.SubscribeSync("varz.x")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, b)
		for i := 0; i < 10; i++ {
			a.Publish("varz.x", []byte("0123456789"))
		}
		flush(t, a)
		for i := 0; i < 10; i++ {
			next(t, sub)
		}
		v = m.pollJSON(t, "/varz", "2 connections, 10 more messages in and out", func(v map[string]interface{}) bool {
			return num(t, v, "connections") == 2 && num(t, v, "in_msgs") >= baseIn+10 &&
				num(t, v, "out_msgs") >= 10 && num(t, v, "in_bytes") >= 100 && num(t, v, "out_bytes") >= 100 &&
				num(t, v, "total_connections") >= baseTotal+2 && num(t, v, "subscriptions") == baseSubs+1
		})
		if _, ok := v["now"].(string); !ok {
			t.Errorf("now is %T", v["now"])
		}
		if _, err := time.Parse(time.RFC3339Nano, v["start"].(string)); err != nil {
			t.Errorf("start: %v", err)
		}
		if _, err := time.ParseDuration(v["uptime"].(string)); err != nil && !strings.Contains(v["uptime"].(string), "d") {
			t.Errorf("uptime %q: %v", v["uptime"], err)
		}
		stats, ok := v["http_req_stats"].(map[string]interface{})
		if !ok || stats["/varz"] == nil {
			t.Errorf("http_req_stats %v lacks /varz", v["http_req_stats"])
		}
	})
}

func TestMonitorConnz(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		m := startMonitored(t, im, "")
		one := connect(t, m.server, nats.Name("one"))
		if _, err := one.SubscribeSync("connz.one"); err != nil {
			t.Fatal(err)
		}
		three := connect(t, m.server, nats.Name("three"))
		for _, subj := range []string{"connz.a", "connz.b"} {
			if _, err := three.SubscribeSync(subj); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := three.QueueSubscribeSync("connz.q", "workers"); err != nil {
			t.Fatal(err)
		}
		flush(t, one, three)

		// The harness's start-up probe connection may still be closing.
		v := m.pollJSON(t, "/connz?subs=1", "exactly the two test connections open", func(v map[string]interface{}) bool {
			return num(t, v, "total") == 2
		})
		if num(t, v, "num_connections") != 2 || num(t, v, "total") != 2 {
			t.Fatalf("num_connections %v total %v, want 2", v["num_connections"], v["total"])
		}
		if num(t, v, "offset") != 0 || num(t, v, "limit") != 1024 {
			t.Errorf("offset %v limit %v", v["offset"], v["limit"])
		}
		list := conns(t, v)
		c1 := byName(list, "one")
		if c1 == nil {
			t.Fatalf("no connection named one in %v", list)
		}
		if num(t, c1, "subscriptions") != 1 {
			t.Errorf("one: subscriptions %v", c1["subscriptions"])
		}
		if sl, _ := c1["subscriptions_list"].([]interface{}); len(sl) != 1 || sl[0] != "connz.one" {
			t.Errorf("one: subscriptions_list %v", c1["subscriptions_list"])
		}
		if c1["lang"] != "go" || c1["version"] != nats.Version || c1["ip"] != "127.0.0.1" {
			t.Errorf("one: lang %v version %v ip %v", c1["lang"], c1["version"], c1["ip"])
		}
		if c1["kind"] != "Client" || c1["type"] != "nats" {
			t.Errorf("one: kind %v type %v", c1["kind"], c1["type"])
		}
		c3 := byName(list, "three")
		if c3 == nil || num(t, c3, "subscriptions") != 3 {
			t.Fatalf("three: %v", c3)
		}
		cid1, cid3 := num(t, c1, "cid"), num(t, c3, "cid")
		if cid1 >= cid3 {
			t.Fatalf("cids %v %v not increasing", cid1, cid3)
		}
		// Default sort is by cid.
		if got := conns(t, v); got[0]["name"] != "one" {
			t.Errorf("default order starts with %v", got[0]["name"])
		}

		// subs=detail: queue group and sid per subscription.
		d := byName(conns(t, m.getJSON(t, "/connz?subs=detail")), "three")
		details, _ := d["subscriptions_list_detail"].([]interface{})
		if len(details) != 3 {
			t.Fatalf("subscriptions_list_detail %v", d["subscriptions_list_detail"])
		}
		foundQ := false
		for _, e := range details {
			e := e.(map[string]interface{})
			if e["subject"] == "connz.q" && e["qgroup"] == "workers" && num(t, e, "cid") == cid3 {
				foundQ = true
			}
		}
		if !foundQ {
			t.Errorf("no detail for connz.q/workers in %v", details)
		}

		// sort=subs: most subscriptions first.
		if got := conns(t, m.getJSON(t, "/connz?sort=subs")); got[0]["name"] != "three" || got[1]["name"] != "one" {
			t.Errorf("sort=subs order %v, %v", got[0]["name"], got[1]["name"])
		}
		// Paging.
		p := m.getJSON(t, "/connz?limit=1")
		if pl := conns(t, p); len(pl) != 1 || pl[0]["name"] != "one" || num(t, p, "total") != 2 || num(t, p, "num_connections") != 1 || num(t, p, "limit") != 1 {
			t.Errorf("limit=1: %v", p)
		}
		p = m.getJSON(t, "/connz?offset=1&limit=1")
		if pl := conns(t, p); len(pl) != 1 || pl[0]["name"] != "three" || num(t, p, "offset") != 1 {
			t.Errorf("offset=1&limit=1: %v", p)
		}
		if pl := conns(t, m.getJSON(t, "/connz?offset=2")); len(pl) != 0 {
			t.Errorf("offset=2: %d connections", len(pl))
		}
		// cid filter.
		if pl := conns(t, m.getJSON(t, fmt.Sprintf("/connz?cid=%d", int(cid3)))); len(pl) != 1 || pl[0]["name"] != "three" {
			t.Errorf("cid=%d: %v", int(cid3), pl)
		}
		// A bad sort is a 400 with a plain-text message.
		if status, _, body, err := m.get("/connz?sort=nope"); err != nil || status != http.StatusBadRequest {
			t.Errorf("sort=nope: status %d err %v body %s", status, err, body)
		}

		// state=closed after a client leaves.
		one.Close()
		closed := m.pollJSON(t, "/connz?state=closed", "connection one listed as closed", func(v map[string]interface{}) bool {
			return byName(conns(t, v), "one") != nil
		})
		co := byName(conns(t, closed), "one")
		if num(t, co, "cid") != cid1 {
			t.Errorf("closed cid %v, want %v", co["cid"], cid1)
		}
		if co["reason"] != "Client Closed" {
			t.Errorf("closed reason %q, want \"Client Closed\"", co["reason"])
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(co["stop"])); err != nil {
			t.Errorf("stop %v: %v", co["stop"], err)
		}
		open := m.getJSON(t, "/connz")
		if ol := conns(t, open); len(ol) != 1 || ol[0]["name"] != "three" {
			t.Errorf("open connections after close: %v", ol)
		}
		// state=any: open and closed together (the harness's start-up probe
		// is a closed connection too, without a name).
		anyList := conns(t, m.getJSON(t, "/connz?state=any"))
		if byName(anyList, "one") == nil || byName(anyList, "three") == nil {
			t.Errorf("state=any lacks one or three: %v", anyList)
		}
	})
}

func TestMonitorConnzAuth(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		m := startMonitored(t, im, "authorization {\n  users = [\n    {user: alice, password: a}\n    {user: bob, password: b}\n  ]\n}\n")
		connect(t, m.server, nats.UserInfo("alice", "a"), nats.Name("a"))
		connect(t, m.server, nats.UserInfo("bob", "b"), nats.Name("b"))
		if v := m.getJSON(t, "/varz"); v["auth_required"] != true {
			t.Errorf("varz auth_required %v", v["auth_required"])
		}
		v := m.getJSON(t, "/connz?auth=true")
		if c := byName(conns(t, v), "a"); c == nil || c["authorized_user"] != "alice" {
			t.Errorf("auth=true: a is %v", c)
		}
		if c := byName(conns(t, m.getJSON(t, "/connz")), "a"); c == nil || c["authorized_user"] != nil {
			t.Errorf("without auth=true: a is %v", c)
		}
		if l := conns(t, m.getJSON(t, "/connz?auth=true&user=bob")); len(l) != 1 || l[0]["name"] != "b" {
			t.Errorf("user=bob: %v", l)
		}
	})
}

// A refused CONNECT is listed as a closed connection, with the name, lang
// and version the client sent and the reason "Authentication Failure".
func TestMonitorConnzRefusedConnect(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		m := startMonitored(t, im, "authorization {\n  users = [\n    {user: alice, password: a}\n  ]\n}\n")
		expectAuthFailure(t, m.server, "bad password", nats.UserInfo("alice", "wrong"), nats.Name("refused"))
		closed := m.pollJSON(t, "/connz?state=closed", "the refused connection listed", func(v map[string]interface{}) bool {
			return byName(conns(t, v), "refused") != nil
		})
		c := byName(conns(t, closed), "refused")
		if c["reason"] != "Authentication Failure" || c["lang"] != "go" || c["version"] != nats.Version {
			t.Errorf("refused connection: reason %q lang %v version %v", c["reason"], c["lang"], c["version"])
		}
	})
}

func TestMonitorSubszAndHealthz(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		m := startMonitored(t, im, "")
		base := num(t, m.getJSON(t, "/subsz"), "num_subscriptions")
		nc := connect(t, m.server)
		if _, err := nc.SubscribeSync("subsz.one"); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.QueueSubscribeSync("subsz.q", "g"); err != nil {
			t.Fatal(err)
		}
		flush(t, nc)
		v := m.getJSON(t, "/subsz")
		if got := num(t, v, "num_subscriptions"); got != base+2 {
			t.Errorf("num_subscriptions %v, want %v", got, base+2)
		}
		for _, k := range []string{"num_cache", "num_inserts", "num_removes", "num_matches", "cache_hit_rate", "max_fanout", "avg_fanout"} {
			num(t, v, k)
		}
		s := m.getJSON(t, "/subsz?subs=1")
		list, _ := s["subscriptions_list"].([]interface{})
		var one, q map[string]interface{}
		for _, e := range list {
			e := e.(map[string]interface{})
			switch e["subject"] {
			case "subsz.one":
				one = e
			case "subsz.q":
				q = e
			}
		}
		if one == nil || q == nil {
			t.Fatalf("subs=1 list lacks subsz.one or subsz.q: %v", list)
		}
		if one["account"] != "$G" || q["qgroup"] != "g" {
			t.Errorf("entries %v %v", one, q)
		}
		if num(t, s, "total") < 2 {
			t.Errorf("total %v", s["total"])
		}
		// test=<subject>: only the subscriptions it would reach.
		tl := m.getJSON(t, "/subsz?subs=1&test=subsz.one")
		if l, _ := tl["subscriptions_list"].([]interface{}); len(l) != 1 || l[0].(map[string]interface{})["subject"] != "subsz.one" {
			t.Errorf("test=subsz.one: %v", tl["subscriptions_list"])
		}

		status, ctype, body, err := m.get("/healthz")
		if err != nil || status != http.StatusOK || !strings.HasPrefix(ctype, "application/json") {
			t.Fatalf("healthz: %d %q %v", status, ctype, err)
		}
		var h map[string]interface{}
		if err := json.Unmarshal(body, &h); err != nil || h["status"] != "ok" || len(h) != 1 {
			t.Errorf("healthz body %s (%v)", body, err)
		}
	})
}

// shape maps every key of a JSON object to its JSON type; nested objects
// are described with dotted keys. skip holds keys, or "key." to keep a
// nested object's type but not its contents.
func shape(prefix string, v map[string]interface{}, skip map[string]bool, out map[string]string) {
	for k, val := range v {
		key := prefix + k
		if skip[key] || skip[prefix] {
			continue
		}
		switch x := val.(type) {
		case map[string]interface{}:
			out[key] = "object"
			shape(key+".", x, skip, out)
		case []interface{}:
			out[key] = "array"
		case string:
			out[key] = "string"
		case float64:
			out[key] = "number"
		case bool:
			out[key] = "bool"
		case nil:
			out[key] = "null"
		default:
			out[key] = fmt.Sprintf("%T", val)
		}
	}
}

func shapeOf(v map[string]interface{}, skip ...string) map[string]string {
	s := map[string]bool{}
	for _, k := range skip {
		s[k] = true
	}
	out := map[string]string{}
	shape("", v, s, out)
	return out
}

func diffShapes(ref, got map[string]string) []string {
	var d []string
	for k, typ := range ref {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("missing %s (%s)", k, typ))
		} else if g != typ {
			d = append(d, fmt.Sprintf("%s is %s, want %s", k, g, typ))
		}
	}
	for k, typ := range got {
		if _, ok := ref[k]; !ok {
			d = append(d, fmt.Sprintf("extra %s (%s)", k, typ))
		}
	}
	sort.Strings(d)
	return d
}

// monitorSample is what TestMonitorShapesMatch reads from one server.
type monitorSample map[string]map[string]string

func sampleMonitor(t *testing.T, im impl) monitorSample {
	m := startMonitored(t, im, "authorization {\n  users = [ {user: u, password: p} ]\n}\n")
	nc := connect(t, m.server, nats.UserInfo("u", "p"), nats.Name("probe"))
	sub, err := nc.QueueSubscribeSync("shape.x", "q")
	if err != nil {
		t.Fatal(err)
	}
	nc.Publish("shape.x", []byte("hello"))
	next(t, sub)
	gone := connect(t, m.server, nats.UserInfo("u", "p"), nats.Name("gone"))
	flush(t, gone)
	gone.Close()
	closed := m.pollJSON(t, "/connz?state=closed", "closed connection listed", func(v map[string]interface{}) bool {
		return byName(conns(t, v), "gone") != nil
	})

	out := monitorSample{}
	// Fields documented as version-specific or as Sluice's own, and maps
	// keyed by data rather than by field name.
	out["varz"] = shapeOf(m.getJSON(t, "/varz"),
		"config_digest", "slow_consumer_stats", "sluice_version", "git_commit", "http_req_stats.")
	cz := m.getJSON(t, "/connz?subs=detail&auth=true")
	out["connz"] = shapeOf(cz, "connections")
	if c := byName(conns(t, cz), "probe"); c != nil {
		out["connz.connections[]"] = shapeOf(c)
		if d, ok := c["subscriptions_list_detail"].([]interface{}); ok && len(d) > 0 {
			out["connz.connections[].subscriptions_list_detail[]"] = shapeOf(d[0].(map[string]interface{}))
		}
	} else {
		t.Fatalf("no probe connection in /connz")
	}
	out["connz?state=closed.connections[]"] = shapeOf(byName(conns(t, closed), "gone"))
	out["subsz"] = shapeOf(m.getJSON(t, "/subsz"))
	sz := m.getJSON(t, "/subsz?subs=1&test=shape.x")
	out["subsz?subs=1"] = shapeOf(sz, "subscriptions_list")
	if l, ok := sz["subscriptions_list"].([]interface{}); ok && len(l) == 1 {
		out["subsz?subs=1.subscriptions_list[]"] = shapeOf(l[0].(map[string]interface{}))
	} else {
		t.Fatalf("subsz test=shape.x list %v", sz["subscriptions_list"])
	}
	out["healthz"] = shapeOf(m.getJSON(t, "/healthz"))
	return out
}

// Known differences between the two servers' monitoring shapes, logged
// rather than failed (none at the moment: add one only with a repro).
var knownShapeDiffs = map[string]string{}

func TestMonitorShapesMatch(t *testing.T) {
	list, err := impls()
	if err != nil {
		t.Fatal(err)
	}
	var ref monitorSample
	for _, im := range list {
		im := im
		t.Run(im.name, func(t *testing.T) {
			got := sampleMonitor(t, im)
			if ref == nil {
				ref = got
				return
			}
			var keys []string
			for k := range ref {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, d := range diffShapes(ref[k], got[k]) {
					line := k + ": " + d
					if tag, ok := knownShapeDiffs[line]; ok {
						t.Logf("known difference (SLUICE-DIFF %s): %s", tag, line)
						continue
					}
					t.Errorf("%s differs from %s: %s", im.name, list[0].name, line)
				}
			}
		})
	}
}

// Polls /varz and /healthz while another connection floods publishes; every
// request must be answered (deadline per request, no speed assertion) and
// in_msgs must grow.
func TestMonitorUnderLoad(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		m := startMonitored(t, im, "")
		pub := connect(t, m.server)
		subc := connect(t, m.server)
		var received int64
		if _, err := subc.Subscribe("load.>", func(*nats.Msg) { atomic.AddInt64(&received, 1) }); err != nil {
			t.Fatal(err)
		}
		flush(t, subc)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var published int64
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, 128)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := pub.Publish("load.x", payload); err != nil {
					return
				}
				atomic.AddInt64(&published, 1)
				if i%1000 == 999 {
					pub.FlushTimeout(10 * time.Second)
				}
			}
		}()
		defer func() {
			close(stop)
			wg.Wait()
		}()

		const polls = 200
		var first, last float64 = -1, -1
		for i := 0; i < polls; i++ {
			v := m.getJSON(t, "/varz")
			in := num(t, v, "in_msgs")
			if first < 0 {
				first = in
			}
			if in < last {
				t.Errorf("in_msgs went back from %v to %v", last, in)
			}
			last = in
			status, _, body, err := m.get("/healthz")
			if err != nil || status != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
				t.Fatalf("healthz poll %d: status %d err %v body %s", i, status, err, body)
			}
		}
		// in_msgs grows: wait (deadline-based) until it passes what had been
		// published when polling ended.
		target := float64(atomic.LoadInt64(&published))
		if target <= first {
			target = first + 1
		}
		m.pollJSON(t, "/varz", fmt.Sprintf("in_msgs >= %v", target), func(v map[string]interface{}) bool {
			return num(t, v, "in_msgs") >= target
		})
		if atomic.LoadInt64(&published) == 0 {
			t.Fatal("nothing published during the polls")
		}
		t.Logf("%s: %d polls each of /varz and /healthz during %d publishes (in_msgs %v -> %v)",
			im.name, polls, atomic.LoadInt64(&published), first, last)
	})
}
