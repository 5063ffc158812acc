// Message headers (HPUB/HMSG) through nats.js.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect, headers, Empty } from "@nats-io/transport-node";
import { forEachServer, startServer, take, withDeadline } from "../lib/harness.mjs";

forEachServer("headers", (kind) => {
  let srv, nc, pub;
  before(async () => {
    srv = await startServer(kind);
    nc = await connect({ servers: srv.hostport });
    pub = await connect({ servers: srv.hostport });
  });
  after(async () => {
    await pub?.close();
    await nc?.close();
    await srv?.stop();
  });

  it("delivers headers intact: multiple values, case, order, payload", async () => {
    const sub = nc.subscribe("hdr.basic");
    await nc.flush();
    const h = headers();
    h.append("X-Multi", "one");
    h.append("X-Multi", "two");
    h.append("X-Multi", "three");
    h.set("Single", "value with spaces: and a colon");
    h.set("lower-case-key", "kept");
    h.set("Empty-Ish", "");
    pub.publish("hdr.basic", "body", { headers: h });
    const [m] = await withDeadline(take(sub, 1), 5000, "header message");
    assert.ok(m.headers, "message has headers");
    assert.deepEqual(m.headers.values("X-Multi"), ["one", "two", "three"]);
    assert.equal(m.headers.get("Single"), "value with spaces: and a colon");
    assert.equal(m.headers.get("lower-case-key"), "kept");
    assert.ok(m.headers.has("Empty-Ish"));
    assert.deepEqual([...m.headers.keys()], ["X-Multi", "Single", "lower-case-key", "Empty-Ish"]);
    assert.equal(m.headers.hasError, false);
    assert.equal(m.headers.code, 0);
    assert.equal(m.string(), "body");
  });

  it("delivers a headers-only message with an empty payload", async () => {
    const sub = nc.subscribe("hdr.only");
    await nc.flush();
    const h = headers();
    h.set("Only", "headers");
    pub.publish("hdr.only", Empty, { headers: h });
    const [m] = await withDeadline(take(sub, 1), 5000, "headers-only message");
    assert.equal(m.data.length, 0);
    assert.equal(m.headers.get("Only"), "headers");
  });

  it("delivers headers with a binary payload and a reply subject", async () => {
    const sub = nc.subscribe("hdr.reply");
    await nc.flush();
    const h = headers();
    h.set("Trace-Id", "abc-123");
    const payload = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
    pub.publish("hdr.reply", payload, { headers: h, reply: "my.reply.subject" });
    const [m] = await withDeadline(take(sub, 1), 5000, "message");
    assert.equal(m.reply, "my.reply.subject");
    assert.equal(m.headers.get("Trace-Id"), "abc-123");
    assert.ok(Buffer.from(m.data).equals(Buffer.from(payload)), "payload intact");
  });

  it("carries headers on requests and on replies", async () => {
    const svc = nc.subscribe("hdr.svc", {
      callback: (_, m) => {
        const rh = headers();
        rh.set("Echo-Of", m.headers?.get("Ask") ?? "none");
        rh.append("Multi", "a");
        rh.append("Multi", "b");
        m.respond(m.data, { headers: rh });
      },
    });
    await nc.flush();
    const h = headers();
    h.set("Ask", "question");
    const r = await pub.request("hdr.svc", "q", { headers: h, timeout: 5000 });
    assert.equal(r.string(), "q");
    assert.equal(r.headers.get("Echo-Of"), "question");
    assert.deepEqual(r.headers.values("Multi"), ["a", "b"]);
    svc.unsubscribe();
  });

  it("delivers plain and header messages to the same subscription in order", async () => {
    const sub = nc.subscribe("hdr.mixed");
    await nc.flush();
    for (let i = 0; i < 20; i++) {
      if (i % 2) {
        const h = headers();
        h.set("N", String(i));
        pub.publish("hdr.mixed", String(i), { headers: h });
      } else {
        pub.publish("hdr.mixed", String(i));
      }
    }
    const msgs = await withDeadline(take(sub, 20), 5000, "20 messages");
    msgs.forEach((m, i) => {
      assert.equal(m.string(), String(i));
      if (i % 2) assert.equal(m.headers.get("N"), String(i));
      else assert.equal(m.headers, undefined);
    });
  });
});
