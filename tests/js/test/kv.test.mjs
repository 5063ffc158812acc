// Key-Value through nats.js v3 (@nats-io/kv Kvm), against both servers:
// create/open, put/get/create/update/delete/purge, status, destroy. Keys,
// history, watch (and purgeDeletes) ride on ordered push consumers with flow
// control and heartbeats ("kv push" suites). Per-key TTL (kv.create with a
// TTL, kv.purge with a TTL, the bucket's markerTTL) is nats-server 2.11:
// the "kv ttl" suite runs on sluice only.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, KvWatchInclude } from "@nats-io/kv";
import { forEachServer, selectedServers, startServer, withJetStreamServer } from "../lib/harness.mjs";

const td = new TextDecoder();

async function collect(iter) {
  const out = [];
  for await (const e of iter) out.push(e);
  return out;
}

// Reads a watcher in the background; next(n) waits (generous deadline)
// until n more entries arrived and returns them.
function reader(iter) {
  const got = [];
  let seen = 0;
  (async () => {
    for await (const e of iter) got.push(e);
  })().catch(() => {});
  return {
    async next(n) {
      const end = Date.now() + 15_000;
      while (got.length < seen + n) {
        if (Date.now() > end) assert.fail(`watch: ${got.length - seen} of ${n} entries`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const out = got.slice(seen, seen + n);
      seen += n;
      return out;
    },
    stop() {
      iter.stop();
    },
  };
}

async function until(what, fn) {
  const end = Date.now() + 20_000;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

forEachServer("kv", (kind) => {
  let srv, nc, kvm, jsm;
  withJetStreamServer(kind, async (s, c) => {
    srv = s;
    nc = c;
    kvm = new Kvm(nc);
    jsm = await jetstreamManager(nc);
  });

  it("puts, gets, creates, updates, deletes and purges", async () => {
    const kv = await kvm.create("cfg", { history: 5 });
    const r1 = await kv.put("a.b", "one");
    assert.equal(r1, 1);
    let e = await kv.get("a.b");
    assert.equal(e.string(), "one");
    assert.equal(e.revision, 1);
    assert.equal(e.operation, "PUT");
    assert.equal(e.key, "a.b");
    const r2 = await kv.put("a.b", "two");
    assert.equal((await kv.get("a.b", { revision: r1 })).string(), "one");
    assert.equal(await kv.get("missing"), null);
    // create only when absent
    await assert.rejects(kv.create("a.b", "x"), (err) => {
      assert.ok(err instanceof JetStreamApiError);
      assert.equal(err.code, 10071);
      return true;
    });
    const rc = await kv.create("new", "fresh");
    // compare-and-set
    await assert.rejects(kv.update("new", "stale", rc - 1), /wrong last sequence/);
    const ru = await kv.update("new", "cas", rc);
    assert.ok(ru > rc);
    // delete: a DEL entry, then create works again
    await kv.delete("a.b");
    e = await kv.get("a.b");
    assert.equal(e.operation, "DEL");
    assert.equal((await kv.get("a.b", { revision: r2 })).string(), "two");
    await kv.create("a.b", "back");
    const last = await kv.get("a.b");
    await assert.rejects(kv.delete("a.b", { previousSeq: last.revision - 1 }), /wrong last sequence/);
    await kv.delete("a.b", { previousSeq: last.revision });
    // purge: one PURGE marker left
    await kv.put("p", "1");
    await kv.put("p", "2");
    await kv.purge("p");
    assert.equal((await kv.get("p")).operation, "PURGE");
    const si = await jsm.streams.info("KV_cfg", { subjects_filter: "$KV.cfg.p" });
    assert.deepEqual(si.state.subjects, { "$KV.cfg.p": 1 });
  });

  it("opens, reports status, enforces limits and is destroyed", async () => {
    const kv = await kvm.create("lim", { history: 64, maxValueSize: 16, max_bytes: 4096, description: "limits",
      storage: "memory" });
    for (let i = 0; i < 70; i++) await kv.put("k", `${i}`);
    const st = await kv.status();
    assert.equal(st.bucket, "lim");
    assert.equal(st.history, 64);
    assert.equal(st.values, 64);
    assert.equal(st.description, "limits");
    assert.equal(st.max_bytes, 4096);
    assert.equal(st.maxValueSize, 16);
    assert.equal(st.backingStore, "memory");
    await assert.rejects(kv.put("big", new Uint8Array(17)), (err) => err.code === 10054);
    await kv.put("fits", new Uint8Array(16));
    let full;
    for (let i = 0; i < 200 && !full; i++) {
      try { await kv.put(`fill${i}`, new Uint8Array(16)); } catch (err) { full = err; }
    }
    assert.equal(full?.code, 10077);
    const opened = await kvm.open("lim");
    assert.equal((await opened.get("k")).string(), "69");
    assert.equal(await kv.destroy(), true);
    await assert.rejects(jsm.streams.info("KV_lim"), /stream not found/);
  });

  it("expires keys by the bucket ttl", async () => {
    const kv = await kvm.create("ttl", { ttl: 1000 });
    assert.equal((await kv.status()).ttl, 1000);
    await kv.put("k", "v");
    await until("the key to expire", async () => (await kv.get("k")) === null);
  });
});

forEachServer("kv push", (kind) => {
  let srv, nc, kvm;
  withJetStreamServer(kind, async (s, c) => {
    srv = s;
    nc = c;
    kvm = new Kvm(nc);
  });

  it("lists keys and history", async () => {
    const kv = await kvm.create("kh", { history: 10 });
    assert.deepEqual(await collect(await kv.keys()), []);
    for (let i = 0; i < 3; i++) await kv.put("a", `a${i}`);
    await kv.put("b", "b0");
    await kv.put("c", "c0");
    await kv.delete("c");
    assert.deepEqual((await collect(await kv.keys())).sort(), ["a", "b"]);
    const h = await collect(await kv.history({ key: "a" }));
    assert.deepEqual(h.map((e) => e.string()), ["a0", "a1", "a2"]);
    const hc = await collect(await kv.history({ key: "c" }));
    assert.deepEqual(hc.map((e) => e.operation), ["PUT", "DEL"]);
    await kv.purgeDeletes(-1);
    assert.deepEqual((await collect(await kv.keys())).sort(), ["a", "b"]);
  });

  it("watches all keys, a filter, history, deletes, meta only and updates only", async () => {
    const kv = await kvm.create("w", { history: 10 });
    await kv.put("x.1", "old");
    await kv.put("x.1", "v1");
    await kv.put("y", "y1");
    await kv.put("gone", "g");
    await kv.delete("gone");
    const all = reader(await kv.watch());
    let got = await all.next(3);
    assert.deepEqual(got.map((e) => `${e.key}=${e.string()}/${e.operation}`),
      ["x.1=v1/PUT", "y=y1/PUT", "gone=/DEL"]);
    await kv.put("y", "y2");
    got = await all.next(1);
    assert.equal(got[0].key, "y");
    assert.equal(got[0].isUpdate, true);
    all.stop();

    const hist = reader(await kv.watch({ key: "x.*", include: KvWatchInclude.AllHistory }));
    got = await hist.next(2);
    assert.deepEqual(got.map((e) => e.string()), ["old", "v1"]);
    hist.stop();

    const quiet = reader(await kv.watch({ ignoreDeletes: true, headers_only: true }));
    got = await quiet.next(2);
    assert.deepEqual(got.map((e) => e.key), ["x.1", "y"]);
    assert.equal(got[0].value.length, 0);
    quiet.stop();

    const updates = reader(await kv.watch({ include: KvWatchInclude.UpdatesOnly }));
    await kv.put("z", "z1");
    got = await updates.next(1);
    assert.equal(got[0].key, "z");
    assert.equal(got[0].isUpdate, true);
    updates.stop();
  });
});

// nats-server 2.11 per-message TTL and subject delete markers: sluice only
// (the reference here is 2.9.10).
const ttlTargets = selectedServers().filter((k) => k.name === "sluice");
for (const kind of ttlTargets) {
  describe(`kv ttl [${kind.name}] (2.11 only)`, () => {
    let srv, nc, kvm, jsm;
    before(async () => {
      srv = await startServer(kind, { jetstream: true });
      nc = await connect({ servers: srv.hostport });
      kvm = new Kvm(nc);
      jsm = await jetstreamManager(nc);
    });
    after(async () => {
      await nc?.close();
      await srv?.stop();
    });

    it("creates a bucket with markerTTL (allow_msg_ttl + subject_delete_marker_ttl)", async () => {
      const kv = await kvm.create("mt", { markerTTL: 2000 });
      const si = await jsm.streams.info("KV_mt");
      assert.equal(si.config.allow_msg_ttl, true);
      assert.equal(si.config.subject_delete_marker_ttl, 2_000_000_000);
      assert.equal(si.config.allow_rollup_hdrs, true);
      assert.equal((await kv.status()).markerTTL, 2000);
    });

    it("expires one key by its own TTL and leaves a MaxAge marker (read as PURGE)", async () => {
      const kv = await kvm.create("kt", { markerTTL: 1000, history: 3 });
      await kv.create("short", "bye", "1s");
      await kv.put("stays", "here");
      const m = await jsm.streams.getMessage("KV_kt", { last_by_subj: "$KV.kt.short" });
      assert.equal(m.header.get("Nats-TTL"), "1s");
      await until("the key to expire", async () => (await kv.get("short"))?.operation === "PURGE");
      const marker = await jsm.streams.getMessage("KV_kt", { last_by_subj: "$KV.kt.short" });
      assert.equal(marker.header.get("Nats-Marker-Reason"), "MaxAge");
      assert.equal(marker.header.get("Nats-TTL"), "1s");
      assert.equal(marker.data.length, 0);
      assert.equal((await kv.get("stays")).string(), "here");
      // the marker expires in turn
      await until("the marker to expire", async () => (await kv.get("short")) === null);
      // create works again on the expired key
      await kv.create("short", "again");
    });

    it("purges with a TTL: the purge marker itself expires", async () => {
      const kv = await kvm.create("pt", { markerTTL: 1000 });
      await kv.put("k", "v");
      await kv.purge("k", { ttl: "1s" });
      assert.equal((await kv.get("k")).operation, "PURGE");
      await until("the purge marker to expire", async () => (await kv.get("k")) === null);
      const si = await jsm.streams.info("KV_pt");
      assert.equal(si.state.messages, 0);
    });

    it("expires by the bucket ttl with a marker", async () => {
      const kv = await kvm.create("bt", { ttl: 1000, markerTTL: 1000 });
      await kv.put("k", "v");
      await until("the MaxAge marker", async () => (await kv.get("k"))?.operation === "PURGE");
    });

    it("refuses TTLs where the stream does not allow them, and invalid TTLs", async () => {
      const kv = await kvm.create("nottl");
      await assert.rejects(kv.create("k", "v", "5s"), (err) => {
        assert.equal(err.code, 10166);
        assert.equal(err.message, "per-message TTL is disabled");
        return true;
      });
      const kv2 = await kvm.create("badttl", { markerTTL: 1000 });
      await assert.rejects(kv2.create("k", "v", "100ms"), (err) => err.code === 10165);
    });

    it("a watcher sees the key go", async () => {
      const kv = await kvm.create("wt", { markerTTL: 1000 });
      await kv.put("stay", "x");
      const w = reader(await kv.watch());
      assert.equal((await w.next(1))[0].key, "stay");
      await kv.create("brief", "v", "1s");
      const got = await w.next(2);
      assert.deepEqual(got.map((e) => `${e.key}/${e.operation}`), ["brief/PUT", "brief/PURGE"]);
      w.stop();
    });
  });
}
