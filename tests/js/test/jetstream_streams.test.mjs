// JetStream streams through nats.js v3: jetstreamManager().streams and
// jetstream(nc).publish, against both servers with a temp store dir.
import { it } from "node:test";
import assert from "node:assert/strict";
import { jetstream, jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import { forEachServer, withJetStreamServer } from "../lib/harness.mjs";

async function rejectsWithCode(p, code, text) {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof JetStreamApiError, `JetStreamApiError expected, got ${err}`);
    assert.equal(err.code, code, err.message);
    if (text) assert.equal(err.message, text);
    return true;
  });
}

forEachServer("jetstream streams", (kind) => {
  let srv, nc, jsm, js;
  withJetStreamServer(kind, async (s, c) => {
    srv = s;
    nc = c;
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });

  it("adds, inspects, updates, lists and deletes streams", async () => {
    const si = await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    assert.equal(si.config.name, "ORDERS");
    assert.equal(si.config.retention, "limits");
    assert.equal(si.config.storage, "file");
    assert.equal(si.config.max_msgs, -1);
    assert.equal(si.config.duplicate_window, 120_000_000_000);
    assert.equal(si.state.messages, 0);
    // Idempotent, then a different config.
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    await rejectsWithCode(jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"], max_msgs: 3 }), 10058,
      "stream name already in use with a different configuration");
    await rejectsWithCode(jsm.streams.add({ name: "DUP", subjects: ["orders.x"] }), 10065);
    const up = await jsm.streams.update("ORDERS", { subjects: ["orders.>", "refunds.*"], max_msgs: 100 });
    assert.deepEqual(up.config.subjects, ["orders.>", "refunds.*"]);
    assert.equal(up.config.max_msgs, 100);
    await jsm.streams.add({ name: "MEM", subjects: ["mem"], storage: "memory" });
    const names = [];
    for await (const n of jsm.streams.names()) names.push(n);
    assert.deepEqual(names.sort(), ["MEM", "ORDERS"]);
    const listed = [];
    for await (const s of jsm.streams.list()) listed.push(s.config.name);
    assert.deepEqual(listed.sort(), ["MEM", "ORDERS"]);
    const bySubject = [];
    for await (const n of jsm.streams.names("refunds.x")) bySubject.push(n);
    assert.deepEqual(bySubject, ["ORDERS"]);
    assert.equal(await jsm.streams.delete("MEM"), true);
    await rejectsWithCode(jsm.streams.info("MEM"), 10059, "stream not found");
    const ai = await jsm.getAccountInfo();
    assert.equal(ai.streams, 1);
  });

  it("publishes with msgID and expectations", async () => {
    await jsm.streams.add({ name: "P", subjects: ["p.>"] });
    let pa = await js.publish("p.a", "one", { msgID: "id-1" });
    assert.equal(pa.stream, "P");
    assert.equal(pa.seq, 1);
    assert.equal(pa.duplicate, false);
    pa = await js.publish("p.a", "one", { msgID: "id-1" });
    assert.equal(pa.seq, 1);
    assert.equal(pa.duplicate, true);
    pa = await js.publish("p.b", "two", { expect: { lastSequence: 1, streamName: "P", lastMsgID: "id-1" } });
    assert.equal(pa.seq, 2);
    await rejectsWithCode(js.publish("p.b", "x", { expect: { lastSequence: 9 } }), 10071, "wrong last sequence: 2");
    await rejectsWithCode(js.publish("p.b", "x", { expect: { streamName: "Q" } }), 10060);
    await rejectsWithCode(js.publish("p.b", "x", { expect: { lastMsgID: "nope" } }), 10070);
    pa = await js.publish("p.b", "three", { expect: { lastSubjectSequence: 2 } });
    assert.equal(pa.seq, 3);
    const m = await jsm.streams.getMessage("P", { seq: 3 });
    assert.equal(m.subject, "p.b");
    assert.equal(m.string(), "three");
    const last = await jsm.streams.getMessage("P", { last_by_subj: "p.a" });
    assert.equal(last.seq, 1);
    assert.equal(await jsm.streams.deleteMessage("P", 1), true);
    const info = await jsm.streams.info("P");
    assert.equal(info.state.messages, 2);
    assert.equal(info.state.first_seq, 2);
    const pr = await jsm.streams.purge("P", { filter: "p.b", keep: 1 });
    assert.equal(pr.purged, 1);
    const all = await jsm.streams.purge("P");
    assert.equal(all.purged, 1);
    const after = await jsm.streams.info("P");
    assert.equal(after.state.messages, 0);
    assert.equal(after.state.last_seq, 3);
  });

  it("acknowledges many concurrent publishes", async () => {
    await jsm.streams.add({ name: "MANY", subjects: ["many"] });
    const acks = await Promise.all(Array.from({ length: 2000 }, (_, i) => js.publish("many", `m${i}`)));
    const seqs = acks.map((a) => a.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});
