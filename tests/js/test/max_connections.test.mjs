// max_connections from the config file.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { forEachServer, RawClient, startServer, withDeadline } from "../lib/harness.mjs";

// The start-up probe's connection (and any just-closed one) may not have been
// reaped by the server yet: retry a refused connect until a deadline.
async function connectWithRetry(hostport, deadlineMs = 10_000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await connect({ servers: hostport, timeout: 2000, reconnect: false });
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

forEachServer("max_connections: 2", (kind) => {
  let srv;
  before(async () => { srv = await startServer(kind, { config: "max_connections: 2\n" }); });
  after(async () => { await srv?.stop(); });

  it("refuses the third connection, with 'maximum connections exceeded'", async () => {
    const a = await connectWithRetry(srv.hostport);
    const b = await connectWithRetry(srv.hostport);
    try {
      // nats.js 3.4 does not surface the -ERR text of a refused first connect: it
      // rejects (a timeout or a write error, depending on timing). Check that...
      await assert.rejects(connect({ servers: srv.hostport, timeout: 2000, reconnect: false }));
      // ...and read what the server actually says on a raw socket.
      const raw = await new RawClient(srv.port).connect();
      try {
        const out = await raw.until((buf, closed) => closed, 5000, "the server to close the 3rd connection");
        assert.match(out, /^INFO \{.*\} ?\r\n-ERR 'maximum connections exceeded'\r\n$/);
      } finally {
        raw.destroy();
      }
      // the two admitted connections are unaffected
      await a.flush();
      await b.flush();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("admits a new connection once one is closed", async () => {
    const a = await connectWithRetry(srv.hostport);
    const b = await connectWithRetry(srv.hostport);
    await a.close();
    const c = await connectWithRetry(srv.hostport);
    try {
      const sub = c.subscribe("mc.x", { max: 1 });
      await c.flush();
      b.publish("mc.x", "hi");
      await b.flush();
      const got = [];
      await withDeadline((async () => { for await (const m of sub) got.push(m.string()); })(), 5000, "message");
      assert.deepEqual(got, ["hi"]);
    } finally {
      await b.close();
      await c.close();
    }
  });
});
