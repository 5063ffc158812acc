package core

// Key-Value through nats.go 1.22 (js.CreateKeyValue / KeyValue), against
// both servers: every operation of issue #7 that nats.go exposes. Keys,
// history and watch ride on ordered push consumers (TestKVWatch*,
// TestKVKeysAndHistory), kept apart so they can be narrowed while Sluice's
// push consumers are being built.
//
// Run: GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go test -count=1 -run KV ./core/

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func kvBucket(t *testing.T, js nats.JetStreamContext, cfg *nats.KeyValueConfig) nats.KeyValue {
	t.Helper()
	kv, err := js.CreateKeyValue(cfg)
	if err != nil {
		t.Fatalf("CreateKeyValue %s: %v", cfg.Bucket, err)
	}
	return kv
}

func TestKVPutGetCreateUpdateDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		kv := kvBucket(t, js, &nats.KeyValueConfig{Bucket: "cfg", History: 5})

		r1, err := kv.PutString("a.b", "one")
		if err != nil || r1 != 1 {
			t.Fatalf("put: %d %v", r1, err)
		}
		e, err := kv.Get("a.b")
		if err != nil || string(e.Value()) != "one" || e.Revision() != 1 || e.Operation() != nats.KeyValuePut ||
			e.Key() != "a.b" || e.Bucket() != "cfg" {
			t.Fatalf("get: %+v %v", e, err)
		}
		r2, _ := kv.PutString("a.b", "two")
		if e, err := kv.GetRevision("a.b", r1); err != nil || string(e.Value()) != "one" {
			t.Errorf("get revision 1: %v %v", e, err)
		}
		if _, err := kv.GetRevision("a.b", 99); !errors.Is(err, nats.ErrKeyNotFound) {
			t.Errorf("get of a missing revision: %v", err)
		}
		if _, err := kv.Get("missing"); !errors.Is(err, nats.ErrKeyNotFound) {
			t.Errorf("get of a missing key: %v", err)
		}
		// Create only when absent.
		if _, err := kv.Create("a.b", []byte("x")); err == nil || !strings.Contains(err.Error(), "wrong last sequence") {
			t.Errorf("create of an existing key: %v", err)
		}
		rc, err := kv.Create("new", []byte("fresh"))
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		// Compare-and-set: refused when stale.
		if _, err := kv.Update("new", []byte("stale"), rc-1); err == nil || errCode(err) != 10071 {
			t.Errorf("stale update: %v", err)
		}
		ru, err := kv.Update("new", []byte("cas"), rc)
		if err != nil || ru <= rc {
			t.Fatalf("update: %d %v", ru, err)
		}
		// Delete leaves a DEL marker; Get says not found; Create works again.
		if err := kv.Delete("a.b"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get("a.b"); !errors.Is(err, nats.ErrKeyNotFound) {
			t.Errorf("get after delete: %v", err)
		}
		if e, err := kv.GetRevision("a.b", r2); err != nil || string(e.Value()) != "two" {
			t.Errorf("older revision after delete: %v %v", e, err)
		}
		if _, err := kv.Create("a.b", []byte("back")); err != nil {
			t.Errorf("create after delete: %v", err)
		}
		// Delete with the expected last revision.
		last, _ := kv.Get("a.b")
		if err := kv.Delete("a.b", nats.LastRevision(last.Revision()-1)); err == nil {
			t.Errorf("delete with a stale revision succeeded")
		}
		if err := kv.Delete("a.b", nats.LastRevision(last.Revision())); err != nil {
			t.Errorf("delete with the last revision: %v", err)
		}
		// Purge: a rollup that leaves only the PURGE marker.
		kv.PutString("p", "1")
		kv.PutString("p", "2")
		if err := kv.Purge("p"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get("p"); !errors.Is(err, nats.ErrKeyNotFound) {
			t.Errorf("get after purge: %v", err)
		}
		si, err := js.StreamInfo("KV_cfg", &nats.StreamInfoRequest{SubjectsFilter: "$KV.cfg.p"})
		if err != nil || si.State.Subjects["$KV.cfg.p"] != 1 {
			t.Errorf("purge keeps one marker: %+v %v", si, err)
		}
		if e, err := kv.Get("new"); err != nil || string(e.Value()) != "cas" {
			t.Errorf("a live key after purge deletes: %v %v", e, err)
		}
		// Invalid keys are refused by the client.
		if _, err := kv.Put("bad key", nil); !errors.Is(err, nats.ErrInvalidKey) {
			t.Errorf("invalid key: %v", err)
		}
	})
}

// A bucket whose stream has no allow_direct: nats.go reads through
// $JS.API.STREAM.MSG.GET (last_by_subj and seq) instead of DIRECT.GET.
func TestKVGetByMessageGet(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		_, err := js.AddStream(&nats.StreamConfig{Name: "KV_old", Subjects: []string{"$KV.old.>"}, MaxMsgsPerSubject: 3,
			AllowRollup: true, DenyDelete: true, Discard: nats.DiscardNew})
		if err != nil {
			t.Fatal(err)
		}
		kv, err := js.KeyValue("old")
		if err != nil {
			t.Fatal(err)
		}
		r1, _ := kv.PutString("k", "v1")
		kv.PutString("k", "v2")
		if e, err := kv.Get("k"); err != nil || string(e.Value()) != "v2" {
			t.Errorf("get: %v %v", e, err)
		}
		if e, err := kv.GetRevision("k", r1); err != nil || string(e.Value()) != "v1" {
			t.Errorf("get revision: %v %v", e, err)
		}
		kv.Delete("k")
		if _, err := kv.Get("k"); !errors.Is(err, nats.ErrKeyNotFound) {
			t.Errorf("get after delete: %v", err)
		}
	})
}

func TestKVBucketLimitsStatusAndDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		// History up to 64; 65 is refused by the client.
		if _, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "h65", History: 65}); !errors.Is(err, nats.ErrHistoryToLarge) {
			t.Errorf("history 65: %v", err)
		}
		kv := kvBucket(t, js, &nats.KeyValueConfig{Bucket: "h64", History: 64, MaxValueSize: 16, MaxBytes: 4096,
			Description: "limits", Storage: nats.MemoryStorage})
		for i := 0; i < 70; i++ {
			if _, err := kv.PutString("k", fmt.Sprintf("%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		si, err := js.StreamInfo("KV_h64")
		if err != nil || si.State.Msgs != 64 || si.Config.MaxMsgsPerSubject != 64 {
			t.Errorf("history 64 keeps 64: %+v %v", si, err)
		}
		// Max value size.
		if _, err := kv.Put("big", make([]byte, 17)); err == nil || errCode(err) != 10054 {
			t.Errorf("value over max_value_size: %v", err)
		}
		if _, err := kv.Put("fits", make([]byte, 16)); err != nil {
			t.Errorf("value at max_value_size: %v", err)
		}
		// Max bytes: discard new refuses once the bucket is full.
		var full error
		for i := 0; i < 200 && full == nil; i++ {
			_, full = kv.Put(fmt.Sprintf("fill%d", i), make([]byte, 16))
		}
		if full == nil || errCode(full) != 10077 {
			t.Errorf("bucket over max_bytes: %v", full)
		}
		st, err := kv.Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Bucket() != "h64" || st.History() != 64 || st.Values() == 0 || st.BackingStore() != "JetStream" {
			t.Errorf("status: %+v", st)
		}
		if info := st.(*nats.KeyValueBucketStatus).StreamInfo(); info.Config.Description != "limits" ||
			info.Config.MaxBytes != 4096 || info.Config.MaxMsgSize != 16 || !info.Config.AllowRollup || !info.Config.DenyDelete {
			t.Errorf("backing stream: %+v", info.Config)
		}
		if err := js.DeleteKeyValue("h64"); err != nil {
			t.Fatal(err)
		}
		if _, err := js.KeyValue("h64"); !errors.Is(err, nats.ErrBucketNotFound) {
			t.Errorf("bucket after delete: %v", err)
		}
		if err := js.DeleteKeyValue("h64"); !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

func TestKVBucketTTL(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		kv := kvBucket(t, js, &nats.KeyValueConfig{Bucket: "ttl", TTL: time.Second})
		st, _ := kv.Status()
		if st.TTL() != time.Second {
			t.Errorf("status TTL: %v", st.TTL())
		}
		kv.PutString("k", "v")
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := kv.Get("k")
			if errors.Is(err, nats.ErrKeyNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the key did not expire: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

func TestKVKeysAndHistory(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		kv := kvBucket(t, js, &nats.KeyValueConfig{Bucket: "kh", History: 10})
		if _, err := kv.Keys(); !errors.Is(err, nats.ErrNoKeysFound) {
			t.Errorf("keys of an empty bucket: %v", err)
		}
		for i := 0; i < 3; i++ {
			kv.PutString("a", fmt.Sprintf("a%d", i))
		}
		kv.PutString("b", "b0")
		kv.PutString("c", "c0")
		kv.Delete("c")
		keys, err := kv.Keys()
		if err != nil || strings.Join(keys, ",") != "a,b" {
			t.Errorf("keys: %v %v", keys, err)
		}
		h, err := kv.History("a")
		if err != nil || len(h) != 3 || string(h[0].Value()) != "a0" || string(h[2].Value()) != "a2" {
			t.Errorf("history: %v %v", h, err)
		}
		h, err = kv.History("c")
		if err != nil || len(h) != 2 || h[1].Operation() != nats.KeyValueDelete {
			t.Errorf("history with a delete: %v %v", h, err)
		}
		if _, err := kv.History("none"); !errors.Is(err, nats.ErrKeyNotFound) {
			t.Errorf("history of a missing key: %v", err)
		}
	})
}

// nextKV reads one watcher update (nil is the end-of-initial-values marker).
func nextKV(t *testing.T, w nats.KeyWatcher) nats.KeyValueEntry {
	t.Helper()
	select {
	case e := <-w.Updates():
		return e
	case <-time.After(msgWait):
		t.Fatal("no watch update")
		return nil
	}
}

func TestKVWatch(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		kv := kvBucket(t, js, &nats.KeyValueConfig{Bucket: "w", History: 10})
		kv.PutString("x.1", "old")
		kv.PutString("x.1", "v1")
		kv.PutString("y", "y1")
		kv.PutString("gone", "g")
		kv.Delete("gone")

		// All keys: the latest of each key, then nil, then live updates.
		all, err := kv.WatchAll()
		if err != nil {
			t.Fatal(err)
		}
		defer all.Stop()
		var got []string
		for e := nextKV(t, all); e != nil; e = nextKV(t, all) {
			got = append(got, fmt.Sprintf("%s=%s/%s", e.Key(), e.Value(), e.Operation()))
		}
		if strings.Join(got, " ") != "x.1=v1/KeyValuePutOp y=y1/KeyValuePutOp gone=/KeyValueDeleteOp" {
			t.Errorf("watch all initial: %v", got)
		}
		kv.PutString("y", "y2")
		if e := nextKV(t, all); e == nil || e.Key() != "y" || string(e.Value()) != "y2" || e.Delta() != 0 {
			t.Errorf("watch all update: %v", e)
		}

		// A key filter with history.
		wf, err := kv.Watch("x.*", nats.IncludeHistory())
		if err != nil {
			t.Fatal(err)
		}
		defer wf.Stop()
		got = nil
		for e := nextKV(t, wf); e != nil; e = nextKV(t, wf) {
			got = append(got, string(e.Value()))
		}
		if strings.Join(got, ",") != "old,v1" {
			t.Errorf("watch x.* with history: %v", got)
		}
		kv.PutString("y", "y3") // not matched
		kv.PutString("x.2", "v2")
		if e := nextKV(t, wf); e == nil || e.Key() != "x.2" {
			t.Errorf("filtered update: %v", e)
		}

		// Ignore deletes; meta only.
		wi, err := kv.WatchAll(nats.IgnoreDeletes(), nats.MetaOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer wi.Stop()
		got = nil
		for e := nextKV(t, wi); e != nil; e = nextKV(t, wi) {
			if len(e.Value()) != 0 {
				t.Errorf("meta only carried a value: %q", e.Value())
			}
			got = append(got, e.Key())
		}
		if strings.Join(got, ",") != "x.1,y,x.2" {
			t.Errorf("ignore deletes: %v", got)
		}
		kv.Delete("y")
		kv.PutString("z", "z1")
		if e := nextKV(t, wi); e == nil || e.Key() != "z" {
			t.Errorf("delete not ignored: %v", e)
		}

		// A watcher of an empty filter gets nil at once.
		we, err := kv.Watch("nothing.*")
		if err != nil {
			t.Fatal(err)
		}
		defer we.Stop()
		if e := nextKV(t, we); e != nil {
			t.Errorf("empty watch: %v", e)
		}
	})
}

// PurgeDeletes reads the markers through a watcher (an ordered push consumer).
func TestKVPurgeDeletes(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		kv := kvBucket(t, js, &nats.KeyValueConfig{Bucket: "pd", History: 5})
		kv.PutString("a.b", "1")
		kv.Delete("a.b")
		kv.PutString("p", "1")
		kv.Purge("p")
		kv.PutString("live", "yes")
		if err := kv.PurgeDeletes(nats.DeleteMarkersOlderThan(-1)); err != nil {
			t.Fatal(err)
		}
		si, _ := js.StreamInfo("KV_pd", &nats.StreamInfoRequest{SubjectsFilter: ">"})
		if len(si.State.Subjects) != 1 || si.State.Subjects["$KV.pd.live"] != 1 {
			t.Errorf("purge deletes left: %v", si.State.Subjects)
		}
		if e, err := kv.Get("live"); err != nil || string(e.Value()) != "yes" {
			t.Errorf("a live key after purge deletes: %v %v", e, err)
		}
	})
}
