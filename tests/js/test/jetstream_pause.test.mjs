// Consumer pause (nats-server 2.11, ADR-48) through nats.js v3:
// jsm.consumers.pause/resume ($JS.API.CONSUMER.PAUSE), pause_until in the
// create config, the paused / pause_remaining info fields, the
// $JS.EVENT.ADVISORY.CONSUMER.PAUSE advisory, the resume at the deadline and
// a durable that stays paused over a restart. The reference here is nats-server
// 2.9.10, which has no pause: these suites run on sluice only (2.11 only).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { selectedServers, startServer, withDeadline, withJetStreamServer } from "../lib/harness.mjs";

const td = new TextDecoder();
const targets = selectedServers().filter((k) => k.name === "sluice");

// Collects the PAUSE advisories of one consumer as they arrive.
function watchPauseAdvisories(nc, stream, consumer) {
  const seen = [];
  const waiters = [];
  const sub = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.PAUSE.${stream}.${consumer}`);
  (async () => {
    for await (const m of sub) {
      const a = JSON.parse(td.decode(m.data));
      seen.push(a);
      for (const w of waiters.splice(0)) w();
    }
  })().catch(() => { /* ends on close */ });
  return {
    sub,
    // Resolves with the n-th advisory (1-based) once it has arrived.
    async nth(n) {
      while (seen.length < n) await new Promise((resolve) => waiters.push(resolve));
      return seen[n - 1];
    },
  };
}

const sameTime = (a, b) => assert.equal(new Date(a).getTime(), new Date(b).getTime(), `${a} vs ${b}`);

for (const kind of targets) {
  describe(`jetstream consumer pause [${kind.name}] (2.11 only)`, () => {
    let nc, jsm, js;
    withJetStreamServer(kind, async (_srv, c) => {
      nc = c;
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      await jsm.streams.add({ name: "PAUSE", subjects: ["pause.>"] });
    });

    it("pauses a pull consumer, serves nothing, then resumes explicitly", async () => {
      await jsm.consumers.add("PAUSE", { durable_name: "explicit", ack_policy: AckPolicy.Explicit, filter_subject: "pause.a" });
      await js.publish("pause.a", "m1");
      const adv = watchPauseAdvisories(nc, "PAUSE", "explicit");
      await nc.flush();
      const until = new Date(Date.now() + 60_000);
      const r = await jsm.consumers.pause("PAUSE", "explicit", until);
      assert.equal(r.paused, true);
      sameTime(r.pause_until, until);
      assert.ok(r.pause_remaining > 0 && r.pause_remaining <= 60_000_000_000, `${r.pause_remaining}`);
      const a1 = await withDeadline(adv.nth(1), 10_000, "the pause advisory");
      assert.equal(a1.type, "io.nats.jetstream.advisory.v1.consumer_pause");
      assert.equal(a1.stream, "PAUSE");
      assert.equal(a1.consumer, "explicit");
      assert.equal(a1.paused, true);
      sameTime(a1.pause_until, until);

      const ci = await jsm.consumers.info("PAUSE", "explicit");
      assert.equal(ci.paused, true);
      assert.ok(ci.pause_remaining > 0);
      sameTime(ci.config.pause_until, until);
      const listed = (await jsm.consumers.list("PAUSE").next()).find((c) => c.name === "explicit");
      assert.equal(listed.paused, true);

      const c = await js.consumers.get("PAUSE", "explicit");
      assert.equal(await c.next({ expires: 1000 }), null, "a paused consumer delivers nothing");
      const fetched = [];
      for await (const m of await c.fetch({ max_messages: 1, expires: 1000 })) fetched.push(m);
      assert.equal(fetched.length, 0);

      // nats.js resumes with pause_until = the Unix epoch (a deadline long past).
      const resumed = await jsm.consumers.resume("PAUSE", "explicit");
      assert.equal(resumed.paused, false);
      assert.equal(resumed.pause_remaining, undefined);
      const a2 = await withDeadline(adv.nth(2), 10_000, "the resume advisory");
      assert.equal(a2.paused, false);
      const after = await jsm.consumers.info("PAUSE", "explicit");
      assert.equal(after.paused, undefined);
      assert.equal(after.pause_remaining, undefined);
      const m = await c.next({ expires: 5000 });
      assert.ok(m, "delivered after the resume");
      assert.equal(td.decode(m.data), "m1");
      m.ack();
      adv.sub.unsubscribe();
    });

    it("resumes by itself at pause_until and serves the waiting request", async () => {
      await jsm.consumers.add("PAUSE", { durable_name: "timed", ack_policy: AckPolicy.Explicit, filter_subject: "pause.t" });
      await js.publish("pause.t", "t1");
      const adv = watchPauseAdvisories(nc, "PAUSE", "timed");
      await nc.flush();
      const r = await jsm.consumers.pause("PAUSE", "timed", new Date(Date.now() + 1500));
      assert.equal(r.paused, true);
      const c = await js.consumers.get("PAUSE", "timed");
      // A pull request made while paused waits and is served after the deadline.
      const m = await withDeadline(c.next({ expires: 20_000 }), 30_000, "a delivery after the deadline");
      assert.ok(m, "delivered once pause_until passed");
      assert.equal(td.decode(m.data), "t1");
      const resumed = await withDeadline(adv.nth(2), 10_000, "the resume advisory");
      assert.equal(resumed.paused, false);
      assert.equal((await jsm.consumers.info("PAUSE", "timed")).paused, undefined);
      adv.sub.unsubscribe();
    });

    it("creates a consumer paused and keeps pause_until over updates", async () => {
      const until = new Date(Date.now() + 120_000);
      const ci = await jsm.consumers.add("PAUSE", {
        durable_name: "born", ack_policy: AckPolicy.Explicit, filter_subject: "pause.b", pause_until: until.toISOString(),
      });
      assert.equal(ci.paused, true);
      assert.ok(ci.pause_remaining > 0);
      sameTime(ci.config.pause_until, until);
      const updated = await jsm.consumers.update("PAUSE", "born", { description: "still paused" });
      assert.equal(updated.config.description, "still paused");
      assert.equal(updated.paused, true);
      sameTime(updated.config.pause_until, until);
      const r = await jsm.consumers.resume("PAUSE", "born");
      assert.equal(r.paused, false);
      // A deadline in the past does not pause.
      const past = await jsm.consumers.add("PAUSE", {
        durable_name: "past", ack_policy: AckPolicy.Explicit, filter_subject: "pause.p",
        pause_until: new Date(Date.now() - 60_000).toISOString(),
      });
      assert.equal(past.paused, undefined);
    });

    it("refuses a pause of an unknown consumer or stream", async () => {
      await assert.rejects(jsm.consumers.pause("PAUSE", "nobody", new Date(Date.now() + 1000)), /consumer not found/);
      await assert.rejects(jsm.consumers.pause("NOSTREAM", "nobody", new Date(Date.now() + 1000)), /stream not found/);
    });
  });

  describe(`jetstream consumer pause over a restart [${kind.name}] (2.11 only)`, () => {
    const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-js-pause-store-"));
    const config = `jetstream { store_dir: "${storeDir}" }\n`;
    let srv, nc;
    after(async () => {
      await nc?.close();
      await srv?.stop();
      fs.rmSync(storeDir, { recursive: true, force: true });
    });

    it("a paused durable consumer is still paused after a restart", async () => {
      srv = await startServer(kind, { config });
      nc = await connect({ servers: srv.hostport });
      let jsm = await jetstreamManager(nc);
      let js = jetstream(nc);
      await jsm.streams.add({ name: "KEEP", subjects: ["keep.>"] });
      await js.publish("keep.x", "k1");
      await jsm.consumers.add("KEEP", { durable_name: "d", ack_policy: AckPolicy.Explicit });
      const until = new Date(Date.now() + 300_000);
      assert.equal((await jsm.consumers.pause("KEEP", "d", until)).paused, true);
      await nc.close();
      await srv.stop();

      srv = await startServer(kind, { config });
      nc = await connect({ servers: srv.hostport });
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      const ci = await jsm.consumers.info("KEEP", "d");
      assert.equal(ci.paused, true);
      sameTime(ci.config.pause_until, until);
      const c = await js.consumers.get("KEEP", "d");
      assert.equal(await c.next({ expires: 1000 }), null);
      await jsm.consumers.resume("KEEP", "d");
      const m = await c.next({ expires: 5000 });
      assert.ok(m);
      assert.equal(td.decode(m.data), "k1");
    });
  });
}
