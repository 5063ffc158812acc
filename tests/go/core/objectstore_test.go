package core

// Object Store through nats.go 1.22 (js.CreateObjectStore), against both
// servers: put/get of a few bytes and of 10 MiB (chunked, digest checked by
// the client on read), info, list, watch, delete (chunks purged), links to
// objects and buckets, seal, status. Reads (Get, List, Watch) ride on
// ordered push consumers with flow control. TestObjectLarge (Sluice only,
// 1 GiB streamed from a generator both ways, never held in memory) is apart
// so it can be narrowed: -run ObjectLarge.
//
// Run: GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go test -count=1 -run Object ./core/

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// patternReader yields n deterministic bytes without holding them.
type patternReader struct {
	n, off int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n-r.off {
		p = p[:r.n-r.off]
	}
	for i := range p {
		x := uint64(r.off + int64(i))
		p[i] = byte(x*2654435761>>13) ^ byte(x)
	}
	r.off += int64(len(p))
	return len(p), nil
}

func pattern(n int64) []byte {
	b, _ := io.ReadAll(&patternReader{n: n})
	return b
}

func objBucket(t *testing.T, js nats.JetStreamContext, cfg *nats.ObjectStoreConfig) nats.ObjectStore {
	t.Helper()
	obs, err := js.CreateObjectStore(cfg)
	if err != nil {
		t.Fatalf("CreateObjectStore %s: %v", cfg.Bucket, err)
	}
	return obs
}

// Put and the metadata: no consumer involved.
func TestObjectPutInfoDeleteSealStatus(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		obs := objBucket(t, js, &nats.ObjectStoreConfig{Bucket: "files", Description: "objs"})

		info, err := obs.PutString("small", "hello")
		if err != nil || info.Size != 5 || info.Chunks != 1 || !strings.HasPrefix(info.Digest, "SHA-256=") {
			t.Fatalf("put small: %+v %v", info, err)
		}
		big := pattern(10 << 20)
		info, err = obs.PutBytes("ten", big)
		if err != nil || info.Size != 10<<20 || info.Chunks != 80 {
			t.Fatalf("put 10 MiB: %+v %v", info, err)
		}
		got, err := obs.GetInfo("ten")
		if err != nil || got.Size != 10<<20 || got.NUID != info.NUID || got.Bucket != "files" {
			t.Errorf("info: %+v %v", got, err)
		}
		if _, err := obs.GetInfo("nope"); !errors.Is(err, nats.ErrObjectNotFound) {
			t.Errorf("info of a missing object: %v", err)
		}
		// Replace: the old chunks are purged.
		if _, err := obs.PutString("small", "hello again"); err != nil {
			t.Fatal(err)
		}
		si, _ := js.StreamInfo("OBJ_files")
		if si.State.Msgs != 1+1+80+1 { // small: chunk + meta; ten: 80 chunks + meta
			t.Errorf("messages after replace: %d", si.State.Msgs)
		}
		// Delete: chunks purged, the meta says deleted.
		if err := obs.Delete("ten"); err != nil {
			t.Fatal(err)
		}
		if _, err := obs.GetInfo("ten"); !errors.Is(err, nats.ErrObjectNotFound) {
			t.Errorf("info after delete: %v", err)
		}
		if d, err := obs.GetInfo("ten", nats.GetObjectInfoShowDeleted()); err != nil || !d.Deleted || d.Size != 0 {
			t.Errorf("deleted info: %+v %v", d, err)
		}
		si, _ = js.StreamInfo("OBJ_files")
		if si.State.Msgs != 3 {
			t.Errorf("messages after delete: %d", si.State.Msgs)
		}
		// Links.
		small, _ := obs.GetInfo("small")
		link, err := obs.AddLink("alias", small)
		if err != nil || link.Opts == nil || link.Opts.Link == nil || link.Opts.Link.Name != "small" {
			t.Fatalf("link: %+v %v", link, err)
		}
		other := objBucket(t, js, &nats.ObjectStoreConfig{Bucket: "other"})
		bl, err := obs.AddBucketLink("to-other", other)
		if err != nil || bl.Opts.Link.Bucket != "other" || bl.Opts.Link.Name != "" {
			t.Errorf("bucket link: %+v %v", bl, err)
		}
		if _, err := obs.AddLink("linklink", link); !errors.Is(err, nats.ErrNoLinkToLink) {
			t.Errorf("link to a link: %v", err)
		}
		// Status.
		st, err := obs.Status()
		if err != nil || st.Bucket() != "files" || st.Description() != "objs" || st.Sealed() || st.Size() == 0 ||
			st.BackingStore() != "JetStream" {
			t.Errorf("status: %+v %v", st, err)
		}
		// Seal: no more puts.
		if err := obs.Seal(); err != nil {
			t.Fatal(err)
		}
		if st, _ := obs.Status(); !st.Sealed() {
			t.Errorf("not sealed")
		}
		if _, err := obs.PutString("late", "x"); err == nil {
			t.Errorf("put into a sealed bucket succeeded")
		}
		if err := js.DeleteObjectStore("other"); err != nil {
			t.Errorf("delete bucket: %v", err)
		}
		if _, err := js.ObjectStore("other"); !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("bucket after delete: %v", err)
		}
	})
}

// Get, List and Watch: ordered push consumers with flow control.
func TestObjectGetListWatch(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startJS(t, im)
		js := jsCtx(t, connect(t, s))
		obs := objBucket(t, js, &nats.ObjectStoreConfig{Bucket: "rw"})
		w, err := obs.Watch()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		select {
		case e := <-w.Updates():
			if e != nil {
				t.Errorf("empty bucket watch: %+v", e)
			}
		case <-time.After(msgWait):
			t.Fatal("no initial watch marker")
		}

		obs.PutString("tiny", "abc")
		big := pattern(10 << 20)
		if _, err := obs.PutBytes("ten", big); err != nil {
			t.Fatal(err)
		}
		if v, err := obs.GetString("tiny"); err != nil || v != "abc" {
			t.Errorf("get tiny: %q %v", v, err)
		}
		got, err := obs.GetBytes("ten") // the client checks the digest at EOF
		if err != nil || !bytes.Equal(got, big) {
			t.Errorf("get 10 MiB: %d bytes, %v", len(got), err)
		}
		if _, err := obs.GetBytes("nope"); !errors.Is(err, nats.ErrObjectNotFound) {
			t.Errorf("get missing: %v", err)
		}
		tinyInfo, _ := obs.GetInfo("tiny")
		obs.AddLink("alias", tinyInfo)
		if v, err := obs.GetString("alias"); err != nil || v != "abc" {
			t.Errorf("get through a link: %q %v", v, err)
		}
		list, err := obs.List()
		var names []string
		for _, o := range list {
			names = append(names, o.Name)
		}
		sort.Strings(names)
		if err != nil || strings.Join(names, ",") != "alias,ten,tiny" {
			t.Errorf("list: %v %v", names, err)
		}
		seen := map[string]bool{}
		for len(seen) < 3 {
			select {
			case e := <-w.Updates():
				if e != nil {
					seen[e.Name] = true
				}
			case <-time.After(msgWait):
				t.Fatalf("watch saw only %v", seen)
			}
		}
		obs.Delete("tiny")
		for {
			select {
			case e := <-w.Updates():
				if e != nil && e.Name == "tiny" && e.Deleted {
					return
				}
			case <-time.After(msgWait):
				t.Fatal("watch did not see the delete")
			}
		}
	})
}

// 1 GiB both ways, streamed: Put reads a generator, Get is hashed as it is
// read. Sluice only (a 1 GiB file store on the reference is just slow).
func TestObjectLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB object")
	}
	list, err := impls()
	if err != nil {
		t.Fatal(err)
	}
	im := list[1]
	if _, err := os.Stat(im.bin); err != nil {
		t.Fatalf("server binary %s: %v", im.bin, err)
	}
	s := startJS(t, im)
	js := jsCtx(t, connect(t, s), nats.PublishAsyncMaxPending(256))
	obs := objBucket(t, js, &nats.ObjectStoreConfig{Bucket: "large"})
	const size = int64(1) << 30
	want := sha256.New()
	io.Copy(want, &patternReader{n: size})
	info, err := obs.Put(&nats.ObjectMeta{Name: "gig", Opts: &nats.ObjectMetaOptions{ChunkSize: 256 << 10}},
		&patternReader{n: size})
	if err != nil || info.Size != uint64(size) {
		t.Fatalf("put 1 GiB: %+v %v", info, err)
	}
	r, err := obs.Get("gig")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r) // a digest mismatch is an error here
	if err != nil || n != size {
		t.Fatalf("get 1 GiB: %d bytes, %v", n, err)
	}
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Errorf("1 GiB content differs")
	}
	fmt.Fprintln(io.Discard, info.Digest)
}
