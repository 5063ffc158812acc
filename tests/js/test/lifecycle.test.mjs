// Connection life cycle seen by nats.js: server stop, reconnect, drain.
import { it } from "node:test";
import assert from "node:assert/strict";
import { connect, errors } from "@nats-io/transport-node";
import { forEachServer, startServer, take, watchStatus, withDeadline } from "../lib/harness.mjs";

forEachServer("lifecycle", (kind) => {
  it("a client sees the disconnect when the server stops (reconnect off)", async () => {
    const srv = await startServer(kind);
    try {
      const nc = await connect({ servers: srv.hostport, reconnect: false });
      const status = watchStatus(nc);
      await nc.flush();
      await srv.stop({ cleanup: false });
      await withDeadline(status.next("disconnect"), 10_000, "disconnect status");
      await withDeadline(nc.closed(), 10_000, "closed()");
      assert.equal(nc.isClosed(), true);
      assert.throws(() => nc.publish("x", "y"), errors.ClosedConnectionError);
    } finally {
      await srv.stop();
    }
  });

  it("a client reconnects and resubscribes when the server comes back on its port", async () => {
    const srv = await startServer(kind);
    let srv2;
    const nc = await connect({
      servers: srv.hostport,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 50,
      reconnectJitter: 0,
    });
    try {
      const status = watchStatus(nc);
      const sub = nc.subscribe("life.back");
      await nc.flush();
      await srv.stop();
      await withDeadline(status.next("disconnect"), 10_000, "disconnect status");
      srv2 = await startServer(kind, { port: srv.port });
      await withDeadline(status.next("reconnect"), 20_000, "reconnect status");
      await nc.flush();
      const pub = await connect({ servers: srv2.hostport });
      pub.publish("life.back", "again");
      await pub.flush();
      const [m] = await withDeadline(take(sub, 1), 5000, "message after reconnect");
      assert.equal(m.string(), "again");
      await pub.close();
    } finally {
      await nc.close();
      await srv2?.stop();
    }
  });

  it("drain() delivers what the server already sent, then closes", async () => {
    const srv = await startServer(kind);
    try {
      const nc = await connect({ servers: srv.hostport });
      const pub = await connect({ servers: srv.hostport });
      const sub = nc.subscribe("drain.me");
      await nc.flush();
      const N = 1000;
      const got = [];
      const reader = (async () => { for await (const m of sub) got.push(m.string()); })();
      for (let i = 0; i < N; i++) pub.publish("drain.me", String(i));
      await pub.flush();
      await nc.drain();
      await withDeadline(reader, 10_000, "the drained subscription to end");
      assert.equal(got.length, N);
      assert.deepEqual(got, Array.from({ length: N }, (_, i) => String(i)));
      assert.equal(nc.isClosed(), true);
      assert.equal(await nc.closed(), undefined);
      // after the drain the subject has no interest from nc
      await assert.rejects(pub.request("drain.me", "", { timeout: 15_000 }),
        (err) => err instanceof errors.RequestError && err.isNoResponders());
      await pub.close();
    } finally {
      await srv.stop();
    }
  });

  it("sub.drain() ends one subscription and keeps the connection", async () => {
    const srv = await startServer(kind);
    try {
      const nc = await connect({ servers: srv.hostport });
      const a = nc.subscribe("sd.a");
      const b = nc.subscribe("sd.b");
      await nc.flush();
      nc.publish("sd.a", "1");
      nc.publish("sd.a", "2");
      await a.drain();
      const gotA = [];
      for await (const m of a) gotA.push(m.string());
      assert.deepEqual(gotA, ["1", "2"]);
      assert.equal(nc.isClosed(), false);
      nc.publish("sd.b", "still");
      const [m] = await withDeadline(take(b, 1), 5000, "message on the other subscription");
      assert.equal(m.string(), "still");
      await nc.close();
    } finally {
      await srv.stop();
    }
  });
});
