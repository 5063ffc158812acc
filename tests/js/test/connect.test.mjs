// Connecting with nats.js: what the client learns from INFO, and a clean close.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { forEachServer, startServer } from "../lib/harness.mjs";

forEachServer("connect", (kind) => {
  let srv;
  before(async () => { srv = await startServer(kind); });
  after(async () => { await srv?.stop(); });

  it("learns version, headers and max_payload from INFO", async () => {
    const nc = await connect({ servers: srv.hostport });
    try {
      const info = nc.info;
      assert.ok(info, "nc.info is set after connect");
      assert.equal(typeof info.version, "string");
      assert.match(info.version, /^\d+\.\d+\.\d+/);
      if (kind.expectedVersion) assert.equal(info.version, kind.expectedVersion);
      assert.equal(info.headers, true);
      assert.equal(info.proto, 1);
      assert.equal(typeof info.server_id, "string");
      assert.ok(info.server_id.length > 0);
      assert.equal(info.max_payload, 1024 * 1024, "default max_payload is 1 MB");
      assert.equal(typeof info.client_id, "number");
      assert.equal(info.port, srv.port);
      assert.equal(nc.getServer(), srv.hostport);
    } finally {
      await nc.close();
    }
  });

  it("gives each connection its own client_id", async () => {
    const a = await connect({ servers: srv.hostport });
    const b = await connect({ servers: srv.hostport });
    try {
      assert.notEqual(a.info.client_id, b.info.client_id);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("closes cleanly: closed() resolves without error, later use is refused", async () => {
    const nc = await connect({ servers: srv.hostport, name: "closer" });
    await nc.flush();
    await nc.close();
    assert.equal(await nc.closed(), undefined);
    assert.equal(nc.isClosed(), true);
    assert.throws(() => nc.publish("x", "y"), /closed/i);
    await assert.rejects(nc.flush(), /closed/i);
  });

  it("answers the client's PING (rtt)", async () => {
    const nc = await connect({ servers: srv.hostport });
    try {
      const rtt = await nc.rtt();
      assert.equal(typeof rtt, "number");
      assert.ok(rtt >= 0);
    } finally {
      await nc.close();
    }
  });
});
