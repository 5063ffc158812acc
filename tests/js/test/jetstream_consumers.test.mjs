// JetStream pull consumers through nats.js v3: jsm.consumers.add/info/list/
// delete, js.consumers.get(stream, name) with fetch(), next() and consume(),
// acks (ack, ackAck, nak, working, term), multi-filter consumers.
import { it } from "node:test";
import assert from "node:assert/strict";
import { AckPolicy, jetstream, jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import { forEachServer, withJetStreamServer } from "../lib/harness.mjs";

forEachServer("jetstream consumers", (kind) => {
  let srv, nc, jsm, js;
  withJetStreamServer(kind, async (s, c) => {
    srv = s;
    nc = c;
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });

  async function publish(subject, n) {
    for (let i = 1; i <= n; i++) await js.publish(subject, `m${i}`);
  }

  it("adds a durable, fetches, acks and counts", async () => {
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    await publish("orders.new", 4);
    // metadata is 2.10+: nats.js refuses it for the 2.9.10 reference.
    const modern = kind.name !== "nats-server";
    const ci = await jsm.consumers.add("ORDERS", {
      durable_name: "proc", ack_policy: AckPolicy.Explicit, description: "d",
      ...(modern ? { metadata: { team: "billing" } } : {}),
    });
    if (modern) assert.deepEqual(ci.config.metadata, { team: "billing" });
    assert.equal(ci.name, "proc");
    assert.equal(ci.num_pending, 4);
    assert.equal(ci.config.ack_wait, 30_000_000_000);
    assert.equal(ci.config.max_ack_pending, 1000);
    const c = await js.consumers.get("ORDERS", "proc");
    const iter = await c.fetch({ max_messages: 3, expires: 2000 });
    const got = [];
    for await (const m of iter) {
      got.push(m);
      assert.equal(m.subject, "orders.new");
      assert.equal(m.info.stream, "ORDERS");
      assert.equal(m.info.consumer, "proc");
      assert.equal(m.info.deliveryCount, 1);
    }
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
    assert.deepEqual(got.map((m) => m.info.pending), [3, 2, 1]);
    assert.equal(await got[0].ackAck(), true);
    got[1].term();
    assert.equal(await got[2].ackAck(), true);
    let info = await jsm.consumers.info("ORDERS", "proc");
    for (let i = 0; i < 100 && info.num_ack_pending !== 0; i++) info = await jsm.consumers.info("ORDERS", "proc");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.delivered.consumer_seq, 3);
    assert.equal(info.ack_floor.stream_seq, 3);
    assert.equal(info.num_pending, 1);
    const m4 = await c.next({ expires: 2000 });
    assert.equal(m4?.seq, 4);
    m4.nak();
    const again = await c.next({ expires: 2000 });
    assert.equal(again?.seq, 4);
    assert.equal(again.info.deliveryCount, 2);
    again.working();
    assert.equal(await again.ackAck(), true);
    const empty = await c.next({ expires: 1000 });
    assert.equal(empty, null);
    const names = [];
    for await (const x of jsm.consumers.list("ORDERS")) names.push(x.name);
    assert.deepEqual(names, ["proc"]);
    assert.equal(await jsm.consumers.delete("ORDERS", "proc"), true);
    await assert.rejects(jsm.consumers.info("ORDERS", "proc"), (err) => {
      assert.ok(err instanceof JetStreamApiError);
      assert.equal(err.code, 10014);
      return true;
    });
  });

  it("consumes with acks", async () => {
    await jsm.streams.add({ name: "WORK", subjects: ["work.*"], retention: "workqueue" });
    await jsm.consumers.add("WORK", { durable_name: "w", ack_policy: AckPolicy.Explicit });
    await publish("work.a", 5);
    const c = await js.consumers.get("WORK", "w");
    const msgs = await c.consume({ max_messages: 2 });
    const seqs = [];
    for await (const m of msgs) {
      seqs.push(m.seq);
      await m.ackAck();
      if (seqs.length === 5) break;
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    const si = await jsm.streams.info("WORK");
    assert.equal(si.state.messages, 0);
  });

  it("filters on several subjects", async (t) => {
    if (kind.name === "nats-server") {
      t.skip("filter_subjects is 2.10+; the reference is 2.9.10");
      return;
    }
    await jsm.streams.add({ name: "MULTI", subjects: ["a.*", "b.*", "c.*"] });
    await js.publish("a.1", "x");
    await js.publish("b.1", "y");
    await js.publish("c.1", "z");
    await js.publish("a.2", "w");
    const ci = await jsm.consumers.add("MULTI", {
      durable_name: "ab", ack_policy: AckPolicy.Explicit, filter_subjects: ["a.*", "b.*"],
    });
    assert.deepEqual(ci.config.filter_subjects, ["a.*", "b.*"]);
    assert.equal(ci.num_pending, 3);
    const c = await js.consumers.get("MULTI", "ab");
    const iter = await c.fetch({ max_messages: 3, expires: 2000 });
    const subjects = [];
    for await (const m of iter) {
      subjects.push(m.subject);
      m.ack();
    }
    assert.deepEqual(subjects, ["a.1", "b.1", "a.2"]);
  });
});
