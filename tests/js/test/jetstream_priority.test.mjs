// Pull consumer priority groups (nats-server 2.11, ADR-42) through nats.js v3:
// priority_groups / priority_policy / priority_timeout in the consumer config,
// overflow (min_pending, min_ack_pending) through fetch and consume options,
// the pinned client (Nats-Pin-Id, the consumer_pinned / consumer_unpinned
// events, 423 statuses), jsm.consumers.unpin, the pin timeout, the
// priority_groups info field and the PINNED / UNPINNED advisories. The
// reference here is nats-server 2.9.10, which has no priority groups: these
// suites run on sluice only (2.11 only).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nanos } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { selectedServers, withDeadline, withJetStreamServer } from "../lib/harness.mjs";

const td = new TextDecoder();
const targets = selectedServers().filter((k) => k.name === "sluice");

// Collects the JSON messages of one subject as they arrive.
function watch(nc, subject) {
  const seen = [];
  const waiters = [];
  const sub = nc.subscribe(subject);
  (async () => {
    for await (const m of sub) {
      seen.push(JSON.parse(td.decode(m.data)));
      for (const w of waiters.splice(0)) w();
    }
  })().catch(() => { /* ends on close */ });
  return {
    seen,
    // Resolves with the n-th message (1-based) once it has arrived.
    async nth(n) {
      while (seen.length < n) await new Promise((resolve) => waiters.push(resolve));
      return seen[n - 1];
    },
  };
}

// Runs a consume() whose messages and status events are kept; until(pred)
// waits for pred(state) to hold.
async function consumeInto(consumer, opts) {
  const state = { msgs: [], events: [] };
  const waiters = [];
  const wake = () => { for (const w of [...waiters]) if (w.pred(state)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); } };
  const iter = await consumer.consume(opts);
  (async () => {
    for await (const e of iter.status()) { state.events.push(e); wake(); }
  })().catch(() => {});
  (async () => {
    for await (const m of iter) { state.msgs.push(m); m.ack(); wake(); }
  })().catch(() => {});
  state.iter = iter;
  state.until = (pred, what, ms = 10_000) =>
    withDeadline(new Promise((resolve) => { waiters.push({ pred, resolve }); wake(); }), ms, what);
  return state;
}

for (const kind of targets) {
  describe(`jetstream priority groups [${kind.name}] (2.11 only)`, () => {
    let nc, jsm, js;
    withJetStreamServer(kind, async (_srv, c) => {
      nc = c;
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      await jsm.streams.add({ name: "PRIO", subjects: ["prio.>"] });
    });

    it("refuses bad priority configs as nats-server 2.11 does", async () => {
      const refused = async (cfg) => {
        try {
          await jsm.consumers.add("PRIO", { ack_policy: AckPolicy.Explicit, ...cfg });
        } catch (err) {
          return err.code ?? err.message;
        }
        return "accepted";
      };
      // Only pull consumers (nats.js refuses this one itself, so it goes raw below too).
      assert.notEqual(await refused({ durable_name: "push", priority_policy: "overflow", priority_groups: ["A"], deliver_subject: "x.push" }), "accepted");
      const raw = async (config) => {
        const r = await nc.request("$JS.API.CONSUMER.CREATE.PRIO.raw", JSON.stringify({ stream_name: "PRIO", config: { name: "raw", ack_policy: "explicit", ...config } }));
        return JSON.parse(td.decode(r.data)).error?.err_code;
      };
      assert.equal(await raw({ priority_policy: "overflow", priority_groups: ["A"], deliver_subject: "x.push" }), 10178);
      assert.equal(await raw({ priority_policy: "overflow" }), 10159);
      assert.equal(await raw({ priority_policy: "overflow", priority_groups: [""] }), 10161);
      assert.equal(await raw({ priority_policy: "overflow", priority_groups: ["bad.name"] }), 10162);
      assert.equal(await raw({ priority_policy: "prioritized", priority_groups: ["A"] }), 10025);
    });

    it("overflow: fetch and consume are served only above min_pending", async () => {
      await jsm.consumers.add("PRIO", {
        durable_name: "ovf", ack_policy: AckPolicy.Explicit, filter_subject: "prio.ovf",
        priority_groups: ["A"], priority_policy: "overflow",
      });
      for (let i = 0; i < 5; i++) await js.publish("prio.ovf", `m${i}`);
      const c = await js.consumers.get("PRIO", "ovf");
      const none = [];
      for await (const m of await c.fetch({ group: "A", min_pending: 10, max_messages: 5, expires: 1000 })) none.push(m);
      assert.equal(none.length, 0, "5 pending < min_pending 10");
      const some = [];
      for await (const m of await c.fetch({ group: "A", min_pending: 3, max_messages: 5, expires: 1000 })) { some.push(m); m.ack(); }
      assert.deepEqual(some.map((m) => m.string()), ["m0", "m1", "m2"], "served while num_pending >= 3");
      const ci = await jsm.consumers.info("PRIO", "ovf");
      assert.equal(ci.num_pending, 2);
      assert.deepEqual(ci.config.priority_groups, ["A"]);
      assert.equal(ci.config.priority_policy, "overflow");
      assert.deepEqual(ci.priority_groups.map((g) => g.group), ["A"]);

      // consume with min_pending 1 drains the rest; then a new message comes too.
      const st = await consumeInto(c, { group: "A", min_pending: 1, max_messages: 10, expires: 2000 });
      await st.until((s) => s.msgs.length >= 2, "the two left");
      await js.publish("prio.ovf", "m5");
      await st.until((s) => s.msgs.length >= 3, "the new one");
      assert.deepEqual(st.msgs.map((m) => m.string()), ["m3", "m4", "m5"]);
      await st.iter.stop();
    });

    it("overflow: min_ack_pending waits for unacknowledged messages", async () => {
      await jsm.consumers.add("PRIO", {
        durable_name: "ackp", ack_policy: AckPolicy.Explicit, filter_subject: "prio.ackp",
        priority_groups: ["A"], priority_policy: "overflow",
      });
      for (let i = 0; i < 4; i++) await js.publish("prio.ackp", `m${i}`);
      const c = await js.consumers.get("PRIO", "ackp");
      const got = [];
      for await (const m of await c.fetch({ group: "A", min_ack_pending: 1, max_messages: 2, expires: 1000 })) got.push(m);
      assert.equal(got.length, 0, "nothing unacknowledged yet");
      for await (const m of await c.fetch({ group: "A", max_messages: 2, expires: 1000 })) got.push(m);  // leave them unacked
      assert.equal(got.length, 2);
      const more = [];
      for await (const m of await c.fetch({ group: "A", min_ack_pending: 2, max_messages: 2, expires: 1000 })) more.push(m);
      assert.equal(more.length, 2, "2 unacknowledged >= min_ack_pending 2");
    });

    it("pinned_client: one client gets everything until it is unpinned", async () => {
      await jsm.consumers.add("PRIO", {
        durable_name: "pin", ack_policy: AckPolicy.Explicit, filter_subject: "prio.pin",
        priority_groups: ["G"], priority_policy: "pinned_client",
      });
      let ci = await jsm.consumers.info("PRIO", "pin");
      assert.equal(ci.config.priority_timeout, nanos(120_000), "nats-server's default pin TTL");
      assert.equal(ci.priority_groups[0].group, "G");
      assert.equal(ci.priority_groups[0].pinned_client_id, undefined);
      const pinnedAdv = watch(nc, "$JS.EVENT.ADVISORY.CONSUMER.PINNED.PRIO.pin");
      const unpinnedAdv = watch(nc, "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.PRIO.pin");
      await nc.flush();

      const c1 = await js.consumers.get("PRIO", "pin");
      const first = await consumeInto(c1, { group: "G", max_messages: 10, expires: 5000 });
      await js.publish("prio.pin", "p0");
      await first.until((s) => s.msgs.length >= 1, "the first message");
      const pin = first.msgs[0].headers?.get("Nats-Pin-Id");
      assert.equal(pin?.length, 22);
      await first.until((s) => s.events.some((e) => e.type === "consumer_pinned"), "consumer_pinned");
      assert.equal(first.events.find((e) => e.type === "consumer_pinned").id, pin);
      const adv = await withDeadline(pinnedAdv.nth(1), 10_000, "the PINNED advisory");
      assert.equal(adv.type, "io.nats.jetstream.advisory.v1.consumer_group_pinned");
      assert.equal(adv.stream, "PRIO");
      assert.equal(adv.consumer, "pin");
      assert.equal(adv.group, "G");
      assert.equal(adv.pinned_id, pin);
      ci = await jsm.consumers.info("PRIO", "pin");
      assert.equal(ci.priority_groups[0].pinned_client_id, pin);
      assert.ok(Date.parse(ci.priority_groups[0].pinned_ts) > 0);

      // A second client stands by while the first holds the pin.
      const c2 = await js.consumers.get("PRIO", "pin");
      const second = await consumeInto(c2, { group: "G", max_messages: 10, expires: 5000 });
      for (let i = 1; i <= 4; i++) await js.publish("prio.pin", `p${i}`);
      await first.until((s) => s.msgs.length >= 5, "the next four on the pinned client");
      assert.equal(second.msgs.length, 0);
      for (const m of first.msgs) assert.equal(m.headers?.get("Nats-Pin-Id"), pin);

      // Another pin id is refused at once: 423.
      const r = await nc.request("$JS.API.CONSUMER.MSG.NEXT.PRIO.pin",
        JSON.stringify({ batch: 1, expires: nanos(1000), group: "G", id: "someone-else" }), { timeout: 5000 });
      assert.equal(r.headers?.code, 423);
      assert.equal(r.headers?.description, "Nats-Pin-Id mismatch");

      // Unpin: the next messages move to the waiting client; the old one learns it with a 423.
      const u = await jsm.consumers.unpin("PRIO", "pin", "G");
      assert.equal(u.type, "io.nats.jetstream.api.v1.consumer_unpin_response");
      const un = await withDeadline(unpinnedAdv.nth(1), 10_000, "the UNPINNED advisory");
      assert.equal(un.type, "io.nats.jetstream.advisory.v1.consumer_group_unpinned");
      assert.equal(un.reason, "admin");
      assert.equal(un.group, "G");
      for (let i = 5; i <= 7; i++) await js.publish("prio.pin", `p${i}`);
      await second.until((s) => s.msgs.length >= 1, "a message on the second client");
      await first.until((s) => s.events.some((e) => e.type === "consumer_unpinned"), "consumer_unpinned on the first client");
      const newPin = second.msgs[0].headers?.get("Nats-Pin-Id");
      assert.ok(newPin && newPin !== pin);
      const adv2 = await withDeadline(pinnedAdv.nth(2), 10_000, "the second PINNED advisory");
      assert.equal(adv2.pinned_id, newPin);
      await second.until((s) => s.msgs.length >= 3, "p5..p7 on the second client");
      assert.equal(first.msgs.length, 5);
      for (const m of second.msgs) assert.equal(m.headers?.get("Nats-Pin-Id"), newPin);
      ci = await jsm.consumers.info("PRIO", "pin");
      assert.equal(ci.priority_groups[0].pinned_client_id, newPin);
      await assert.rejects(jsm.consumers.unpin("PRIO", "pin", "nope"), (err) => err.code === 10160);
      await first.iter.stop();
      await second.iter.stop();
    });

    it("pinned_client: the pin lapses after priority_timeout without requests", async () => {
      await jsm.consumers.add("PRIO", {
        durable_name: "ttl", ack_policy: AckPolicy.Explicit, filter_subject: "prio.ttl",
        priority_groups: ["G"], priority_policy: "pinned_client", priority_timeout: nanos(1000),
      });
      const unpinnedAdv = watch(nc, "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.PRIO.ttl");
      await nc.flush();
      await js.publish("prio.ttl", "t0");
      const c1 = await js.consumers.get("PRIO", "ttl");
      const got = [];
      for await (const m of await c1.fetch({ group: "G", max_messages: 1, expires: 1000 })) { got.push(m); m.ack(); }
      assert.equal(got.length, 1);
      const pin = got[0].headers?.get("Nats-Pin-Id");
      assert.ok(pin);
      // The first client stops pulling; a second one waits, then takes over.
      const c2 = await js.consumers.get("PRIO", "ttl");
      const second = await consumeInto(c2, { group: "G", max_messages: 10, expires: 5000 });
      await js.publish("prio.ttl", "t1");
      const un = await withDeadline(unpinnedAdv.nth(1), 10_000, "the UNPINNED advisory (timeout)");
      assert.equal(un.reason, "timeout");
      await second.until((s) => s.msgs.length >= 1, "t1 on the second client");
      assert.equal(second.msgs[0].string(), "t1");
      assert.notEqual(second.msgs[0].headers?.get("Nats-Pin-Id"), pin);
      await second.iter.stop();
    });
  });
}
