// JetStream push consumers through nats.js v3: jsm.consumers.add with a
// deliver_subject, js.consumers.getPushConsumer(stream, name).consume(),
// the ordered push consumer (getPushConsumer(stream) with no name, what the
// KV watcher uses) with its flow control and heartbeats, and deliver groups.
import { it } from "node:test";
import assert from "node:assert/strict";
import { connect, createInbox } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { forEachServer, withDeadline, withJetStreamServer } from "../lib/harness.mjs";

forEachServer("jetstream push consumers", (kind) => {
  let srv, nc, jsm, js;
  withJetStreamServer(kind, async (s, c) => {
    srv = s;
    nc = c;
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });

  async function publish(subject, n, data = (i) => `m${i}`) {
    for (let i = 1; i <= n; i++) await js.publish(subject, data(i));
  }

  // A consume() iterator can be iterated once: the reader keeps it and reads
  // n messages at a time (acking each when asked); stop() ends the consume
  // and waits for the iterator to finish.
  function reader(messages) {
    const iter = messages[Symbol.asyncIterator]();
    const read = async (n, ack = true) => {
      const got = [];
      await withDeadline((async () => {
        while (got.length < n) {
          const r = await iter.next();
          if (r.done) break;
          got.push(r.value);
          if (ack) r.value.ack();
        }
      })(), 20_000, `${n} push deliveries`);
      return got;
    };
    const stop = async () => {
      messages.stop();
      await withDeadline((async () => {
        while (!(await iter.next()).done);
      })(), 10_000, "the consumer to stop");
    };
    return { read, stop };
  }

  it("consumes a durable push consumer with explicit acks", async () => {
    await jsm.streams.add({ name: "PUSH", subjects: ["push.>"] });
    await publish("push.a", 5);
    const deliver = createInbox();
    const ci = await jsm.consumers.add("PUSH", {
      durable_name: "pd", ack_policy: AckPolicy.Explicit, deliver_subject: deliver, idle_heartbeat: 1_000_000_000,
    });
    assert.equal(ci.config.deliver_subject, deliver);
    assert.equal(ci.push_bound ?? false, false);
    const c = await js.consumers.getPushConsumer("PUSH", "pd");
    const messages = await c.consume();
    const { read, stop } = reader(messages);
    const got = await read(5);
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5]);
    assert.equal(got[0].subject, "push.a");
    assert.equal(got[0].info.consumer, "pd");
    assert.deepEqual(got.map((m) => m.info.pending), [4, 3, 2, 1, 0]);
    let info = await jsm.consumers.info("PUSH", "pd");
    assert.equal(info.push_bound, true);
    for (let i = 0; i < 100 && info.num_ack_pending !== 0; i++) info = await jsm.consumers.info("PUSH", "pd");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.delivered.consumer_seq, 5);
    // New messages keep flowing.
    await publish("push.b", 2);
    const more = await read(2);
    assert.deepEqual(more.map((m) => m.seq), [6, 7]);
    await stop();
    assert.equal(await jsm.consumers.delete("PUSH", "pd"), true);
  });

  it("reads a stream in order through an ordered push consumer", async () => {
    await jsm.streams.add({ name: "ORD", subjects: ["ord.>"] });
    const n = 2000;
    const payload = "x".repeat(4096); // 8 MB: several flow-control rounds
    const acks = [];
    for (let i = 0; i < n; i++) acks.push(js.publish(`ord.${i % 5}`, payload));
    await Promise.all(acks);
    const c = await js.consumers.getPushConsumer("ORD");
    const info = await c.info(true);
    assert.equal(info.config.ack_policy, AckPolicy.None);
    assert.equal(info.config.flow_control, true);
    assert.equal(info.config.deliver_policy, DeliverPolicy.All);
    const messages = await c.consume();
    const { read, stop } = reader(messages);
    const got = await read(n, false);
    assert.equal(got.length, n);
    got.forEach((m, i) => assert.equal(m.seq, i + 1));
    assert.equal(got[n - 1].info.pending, 0);
    // Later messages arrive on the same consumer.
    await publish("ord.late", 3);
    const late = await read(3, false);
    assert.deepEqual(late.map((m) => m.seq), [n + 1, n + 2, n + 3]);
    await stop();
  });

  it("splits a deliver group between its members", async () => {
    await jsm.streams.add({ name: "GRP", subjects: ["grp"] });
    const deliver = createInbox();
    await jsm.consumers.add("GRP", {
      durable_name: "workers", ack_policy: AckPolicy.Explicit, deliver_subject: deliver, deliver_group: "g",
    });
    const nc2 = await connect({ servers: srv.hostport });
    const js2 = jetstream(nc2);
    try {
      const a = await (await js.consumers.getPushConsumer("GRP", "workers")).consume();
      const b = await (await js2.consumers.getPushConsumer("GRP", "workers")).consume();
      await nc.flush();
      await nc2.flush();
      const seen = new Map();
      const total = 40;
      let count = 0;
      let resolve;
      const all = new Promise((r) => { resolve = r; });
      const drain = async (iter, who) => {
        for await (const m of iter) {
          seen.set(m.seq, (seen.get(m.seq) ?? []).concat(who));
          m.ack();
          if (++count === total) resolve();
        }
      };
      drain(a, "a");
      drain(b, "b");
      // Both members are bound before anything is published.
      let info = await jsm.consumers.info("GRP", "workers");
      for (let i = 0; i < 100 && !info.push_bound; i++) info = await jsm.consumers.info("GRP", "workers");
      assert.equal(info.push_bound, true);
      await publish("grp", total);
      await withDeadline(all, 20_000, "deliver group messages");
      assert.equal(seen.size, total);
      for (const [seq, who] of seen) assert.equal(who.length, 1, `seq ${seq} went to ${who}`);
      a.stop();
      b.stop();
    } finally {
      await nc2.close();
    }
  });
});
