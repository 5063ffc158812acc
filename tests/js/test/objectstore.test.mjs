// Object Store through nats.js v3 (@nats-io/obj Objm), against both servers:
// put (a few bytes and a few MiB, chunked, streamed), info, delete (chunks
// purged), links to objects and buckets, seal, status, destroy; and, in the
// "obj push" suite, get (digest checked by the client), list and watch,
// which ride on ordered push consumers with flow control.
import { it } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { forEachServer, withJetStreamServer } from "../lib/harness.mjs";

function pattern(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((i * 2654435761) >>> 13) ^ i;
  return b;
}

// A ReadableStream over `data` in 64 KiB pieces (put is streamed).
function streamOf(data) {
  let off = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= data.length) return controller.close();
      controller.enqueue(data.subarray(off, off + 65536));
      off += 65536;
    },
  });
}

async function readAll(rs) {
  const parts = [];
  let n = 0;
  for await (const c of rs) {
    parts.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const FEW_MIB = 3 * 1024 * 1024 + 12345;

forEachServer("obj", (kind) => {
  let srv, nc, objm, jsm;
  withJetStreamServer(kind, async (s, c) => {
    srv = s;
    nc = c;
    objm = new Objm(nc);
    jsm = await jetstreamManager(nc);
  });

  it("puts objects and reads their info, links, deletes, seals and reports status", async () => {
    const os = await objm.create("files", { description: "objs" });
    let info = await os.putBlob({ name: "tiny" }, new TextEncoder().encode("abc"));
    assert.equal(info.size, 3);
    assert.equal(info.chunks, 1);
    assert.match(info.digest, /^SHA-256=/);
    info = await os.put({ name: "big", options: { max_chunk_size: 128 * 1024 } }, streamOf(pattern(FEW_MIB)));
    assert.equal(info.size, FEW_MIB);
    assert.equal(info.chunks, Math.ceil(FEW_MIB / (128 * 1024)));
    const got = await os.info("big");
    assert.equal(got.nuid, info.nuid);
    assert.equal(got.bucket, "files");
    assert.equal(await os.info("nope"), null);
    // links
    const tiny = await os.info("tiny");
    const link = await os.link("alias", tiny);
    assert.equal(link.options.link.name, "tiny");
    const other = await objm.create("other");
    const bl = await os.linkStore("to-other", other);
    assert.equal(bl.options.link.bucket, "other");
    await assert.rejects(os.link("linklink", link), /link/);
    // delete: chunks purged
    const before = (await jsm.streams.info("OBJ_files")).state.messages;
    const r = await os.delete("big");
    assert.equal(r.success, true);
    const after = (await jsm.streams.info("OBJ_files")).state.messages;
    assert.equal(before - after, info.chunks);
    assert.equal((await os.info("big")).deleted, true);
    // status, seal
    let st = await os.status();
    assert.equal(st.bucket, "files");
    assert.equal(st.description, "objs");
    assert.equal(st.sealed, false);
    assert.ok(st.size > 0);
    assert.equal(await os.seal().then(() => true), true);
    st = await os.status();
    assert.equal(st.sealed, true);
    await assert.rejects(os.putBlob({ name: "late" }, new Uint8Array(1)));
    assert.equal(await other.destroy(), true);
    await assert.rejects(jsm.streams.info("OBJ_other"), /stream not found/);
  });
});

forEachServer("obj push", (kind) => {
  let srv, nc, objm;
  withJetStreamServer(kind, async (s, c) => {
    srv = s;
    nc = c;
    objm = new Objm(nc);
  });

  it("gets objects (digest checked), lists and watches", async () => {
    const os = await objm.create("rw");
    const watch = await os.watch();
    const seen = [];
    (async () => {
      for await (const e of watch) if (e) seen.push(`${e.name}${e.deleted ? "-" : ""}`);
    })().catch(() => {});
    await os.putBlob({ name: "tiny" }, new TextEncoder().encode("abc"));
    const data = pattern(FEW_MIB);
    await os.put({ name: "big" }, streamOf(data));
    assert.equal(new TextDecoder().decode(await os.getBlob("tiny")), "abc");
    const res = await os.get("big");
    const back = await readAll(res.data);
    assert.ok(!(await res.error)); // the digest matched
    assert.deepEqual(back, data);
    assert.equal(await os.get("nope"), null);
    await os.link("alias", await os.info("tiny"));
    assert.equal(new TextDecoder().decode(await os.getBlob("alias")), "abc");
    const names = (await os.list()).map((i) => i.name).sort();
    assert.deepEqual(names, ["alias", "big", "tiny"]);
    await os.delete("tiny");
    const end = Date.now() + 15_000;
    while (!seen.includes("tiny-") && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.includes("tiny") && seen.includes("big") && seen.includes("tiny-"), `watch saw ${seen}`);
    watch.stop();
  });
});
