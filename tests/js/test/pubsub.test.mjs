// Core publish/subscribe through nats.js: iteration, wildcards, queue groups,
// auto-unsubscribe, echo, flush and ordering.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { forEachServer, startServer, take, withDeadline } from "../lib/harness.mjs";

const td = new TextDecoder();

forEachServer("pub/sub", (kind) => {
  let srv;
  const conns = [];
  const open = async (opts = {}) => {
    const nc = await connect({ servers: srv.hostport, ...opts });
    conns.push(nc);
    return nc;
  };
  before(async () => { srv = await startServer(kind); });
  after(async () => {
    for (const nc of conns) if (!nc.isClosed()) await nc.close();
    await srv?.stop();
  });

  it("delivers to an async-iterated subscription, subject and payload intact", async () => {
    const sub_nc = await open();
    const pub_nc = await open();
    const sub = sub_nc.subscribe("greet.hello");
    await sub_nc.flush();
    pub_nc.publish("greet.hello", "world");
    pub_nc.publish("greet.hello", "");
    pub_nc.publish("greet.hello", new Uint8Array([0, 13, 10, 255]));
    const msgs = await withDeadline(take(sub, 3), 5000, "3 messages");
    assert.deepEqual(msgs.map((m) => m.subject), ["greet.hello", "greet.hello", "greet.hello"]);
    assert.equal(msgs[0].string(), "world");
    assert.equal(msgs[1].data.length, 0);
    assert.deepEqual([...msgs[2].data], [0, 13, 10, 255]);
    assert.ok(!msgs[0].reply, "no reply subject");
    assert.equal(msgs[0].headers, undefined);
    sub.unsubscribe();
  });

  it("routes wildcards: * is one token, > is one or more trailing tokens", async () => {
    const nc = await open();
    const pub = await open();
    const patterns = ["w.*", "w.>", "w.*.c", "w.a.>", "w.a.b", ">", "*.a"];
    const got = Object.fromEntries(patterns.map((p) => [p, []]));
    for (const p of patterns) {
      nc.subscribe(p, { callback: (_, m) => got[p].push(m.subject) });
    }
    await nc.flush();
    const published = ["w", "w.a", "w.a.b", "w.a.b.c", "w.x.c", "x.a", "wa.b", "W.a"];
    for (const s of published) pub.publish(s, s);
    await pub.flush();
    await nc.flush(); // the PONG comes after every MSG the server queued before it
    const want = {
      "w.*": ["w.a"],
      "w.>": ["w.a", "w.a.b", "w.a.b.c", "w.x.c"],
      "w.*.c": ["w.x.c"],
      "w.a.>": ["w.a.b", "w.a.b.c"],
      "w.a.b": ["w.a.b"],
      ">": published,
      "*.a": ["w.a", "x.a", "W.a"],
    };
    assert.deepEqual(got, want);
  });

  it("delivers one copy per matching subscription of the same connection", async () => {
    const nc = await open();
    const a = nc.subscribe("dup.x");
    const b = nc.subscribe("dup.*");
    await nc.flush();
    nc.publish("dup.x", "1");
    await nc.flush();
    assert.equal(a.getReceived(), 1);
    assert.equal(b.getReceived(), 1);
    assert.equal(nc.stats().inMsgs, 2);
  });

  it("gives each message to exactly one member of a queue group, and to plain subscribers too", async () => {
    const N = 300;
    const members = [];
    for (let i = 0; i < 3; i++) {
      const nc = await open();
      const ids = [];
      nc.subscribe("work.item", { queue: "workers", callback: (_, m) => ids.push(m.string()) });
      await nc.flush();
      members.push({ nc, ids });
    }
    // a second group on one connection and a plain subscriber
    const other = await open();
    const g2a = [], g2b = [], plain = [];
    other.subscribe("work.*", { queue: "auditors", callback: (_, m) => g2a.push(m.string()) });
    other.subscribe("work.item", { queue: "auditors", callback: (_, m) => g2b.push(m.string()) });
    other.subscribe("work.item", { callback: (_, m) => plain.push(m.string()) });
    await other.flush();

    const pub = await open();
    for (let i = 0; i < N; i++) pub.publish("work.item", String(i));
    await pub.flush();
    for (const m of members) await m.nc.flush();
    await other.flush();

    const all = members.flatMap((m) => m.ids);
    assert.equal(all.length, N, "every message went to exactly one worker");
    assert.equal(new Set(all).size, N);
    assert.equal(g2a.length + g2b.length, N, "second group also got each message once");
    assert.equal(new Set([...g2a, ...g2b]).size, N);
    assert.equal(plain.length, N, "a plain subscriber gets every message");
    assert.deepEqual(plain, Array.from({ length: N }, (_, i) => String(i)));
  });

  it("auto-unsubscribes after exactly n messages: sub.unsubscribe(n)", async () => {
    const nc = await open();
    const pub = await open();
    const sub = nc.subscribe("auto.unsub");
    sub.unsubscribe(5);
    await nc.flush();
    for (let i = 0; i < 12; i++) pub.publish("auto.unsub", String(i));
    await pub.flush();
    const got = [];
    for await (const m of sub) got.push(m.string()); // the iterator ends at max
    assert.deepEqual(got, ["0", "1", "2", "3", "4"]);
    await nc.flush();
    assert.equal(nc.stats().inMsgs, 5, "the server stopped delivering after 5");
    assert.equal(sub.isClosed(), true);
  });

  it("auto-unsubscribes after exactly max messages: subscribe({max})", async () => {
    const nc = await open();
    const pub = await open();
    const sub = nc.subscribe("auto.max", { max: 3 });
    await nc.flush();
    for (let i = 0; i < 10; i++) pub.publish("auto.max", String(i));
    await pub.flush();
    const got = [];
    for await (const m of sub) got.push(m.string());
    assert.deepEqual(got, ["0", "1", "2"]);
    await nc.flush();
    assert.equal(nc.stats().inMsgs, 3, "the server stopped delivering after 3");
    // after the limit, a new publish reaches nobody on that connection
    pub.publish("auto.max", "late");
    await pub.flush();
    await nc.flush();
    assert.equal(nc.stats().inMsgs, 3);
  });

  it("auto-unsubscribe counts messages already delivered", async () => {
    const nc = await open();
    const pub = await open();
    const sub = nc.subscribe("auto.late");
    await nc.flush();
    for (let i = 0; i < 4; i++) pub.publish("auto.late", String(i));
    await pub.flush();
    await nc.flush();
    assert.equal(sub.getReceived(), 4);
    sub.unsubscribe(2); // already past the limit: removed now
    await nc.flush();
    pub.publish("auto.late", "more");
    await pub.flush();
    await nc.flush();
    assert.equal(nc.stats().inMsgs, 4);
  });

  it("unsubscribe() stops delivery", async () => {
    const nc = await open();
    const pub = await open();
    const sub = nc.subscribe("unsub.now");
    await nc.flush();
    pub.publish("unsub.now", "a");
    await pub.flush();
    await nc.flush();
    sub.unsubscribe();
    await nc.flush();
    pub.publish("unsub.now", "b");
    await pub.flush();
    await nc.flush();
    assert.equal(nc.stats().inMsgs, 1);
  });

  it("does not echo a connection's own messages with noEcho", async () => {
    const quiet = await open({ noEcho: true });
    const loud = await open();
    const quietGot = [], loudGot = [];
    quiet.subscribe("echo.test", { callback: (_, m) => quietGot.push(m.string()) });
    loud.subscribe("echo.test", { callback: (_, m) => loudGot.push(m.string()) });
    await quiet.flush();
    await loud.flush();
    quiet.publish("echo.test", "from-quiet");
    loud.publish("echo.test", "from-loud");
    await quiet.flush();
    await loud.flush();
    await quiet.flush();
    assert.deepEqual(quietGot, ["from-loud"]);
    assert.deepEqual(loudGot.sort(), ["from-loud", "from-quiet"]);
  });

  it("echoes by default", async () => {
    const nc = await open();
    const sub = nc.subscribe("echo.default");
    await nc.flush();
    nc.publish("echo.default", "me");
    const [m] = await withDeadline(take(sub, 1), 5000, "own message");
    assert.equal(m.string(), "me");
  });

  it("flush() resolves after the server has handled everything sent before it", async () => {
    const nc = await open();
    const sub = nc.subscribe("flush.test");
    await nc.flush();
    for (let i = 0; i < 100; i++) nc.publish("flush.test", String(i));
    await nc.flush();
    assert.equal(sub.getReceived(), 100);
  });

  it("keeps publish order for 10,000 messages", async () => {
    const N = 10_000;
    const nc = await open();
    const pub = await open();
    const sub = nc.subscribe("order.test");
    await nc.flush();
    const done = (async () => {
      let expect = 0;
      for await (const m of sub) {
        const n = Number(td.decode(m.data));
        if (n !== expect) throw new Error(`message ${expect} expected, got ${n}`);
        expect++;
        if (expect === N) break;
      }
      return expect;
    })();
    for (let i = 0; i < N; i++) pub.publish("order.test", String(i));
    await pub.flush();
    assert.equal(await withDeadline(done, 30_000, `${N} messages`), N);
  });
});
