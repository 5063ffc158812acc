// Server keep-alive: ping_interval / ping_max from the config file.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { forEachServer, RawClient, startServer, take, watchStatus, withDeadline } from "../lib/harness.mjs";

const CONFIG = 'ping_interval: "100ms"\nping_max: 2\n';

async function rawHandshake(port) {
  const raw = await new RawClient(port).connect();
  await raw.until((b) => b.includes("\r\n"), 5000, "INFO");
  raw.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n');
  await raw.until((b) => b.includes("PONG\r\n"), 5000, "PONG");
  raw.buf = "";
  return raw;
}

forEachServer("keepalive", (kind) => {
  let srv;
  before(async () => { srv = await startServer(kind, { config: CONFIG }); });
  after(async () => { await srv?.stop(); });

  it("keeps an idle nats.js client connected across many ping intervals", async () => {
    const nc = await connect({ servers: srv.hostport });
    const status = watchStatus(nc);
    // A raw observer connected after nc counts the server's PINGs (answering each):
    // once it has seen 8, nc has been through at least as many intervals.
    const observer = await rawHandshake(srv.port);
    let pings = 0;
    const counted = observer.until((b) => {
      const lines = b.split("\r\n");
      const n = lines.filter((l) => l === "PING").length;
      while (pings < n) { observer.write("PONG\r\n"); pings++; }
      return pings >= 8;
    }, 10_000, "8 server PINGs on the observer connection");
    try {
      await counted;
      assert.equal(observer.closed, false, "an answering raw client stays connected too");
      assert.equal(nc.isClosed(), false);
      assert.deepEqual(status.types().filter((t) => t === "disconnect" || t === "reconnecting" ||
        t === "staleConnection" || t === "error"), [], `status events: ${status.types()}`);
      // and it still works
      const sub = nc.subscribe("ka.after");
      await nc.flush();
      nc.publish("ka.after", "alive");
      const [m] = await withDeadline(take(sub, 1), 5000, "message after idling");
      assert.equal(m.string(), "alive");
    } finally {
      observer.destroy();
      await nc.close();
    }
  });

  it("closes a client that stops answering PINGs with 'Stale Connection'", async () => {
    const raw = await rawHandshake(srv.port);
    try {
      const out = await raw.until((b, closed) => closed, 10_000, "server to close the silent client");
      assert.match(out, /^(PING\r\n)+-ERR 'Stale Connection'\r\n$/);
      const pings = out.split("PING\r\n").length - 1;
      assert.equal(pings, 2, "ping_max: 2 unanswered PINGs, then the error");
    } finally {
      raw.destroy();
    }
  });
});
