// Slow consumer: with max_pending: 512KB, a subscriber that does not read while
// another connection floods is closed by the server; a healthy subscriber still
// receives every message.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { forEachServer, startServer, watchStatus, withDeadline } from "../lib/harness.mjs";

// max_payload must not exceed max_pending (nats-server refuses to start otherwise).
const CONFIG = "max_pending: 512KB\nmax_payload: 64KB\n";
const MSG_SIZE = 8 * 1024;
const TOTAL = 2048; // 16 MB: well past the kernel's socket buffers plus max_pending
const BATCH = 32; // 256 KB per round, below max_pending for the healthy subscriber

forEachServer("slow consumer", (kind) => {
  let srv;
  before(async () => { srv = await startServer(kind, { config: CONFIG }); });
  after(async () => { await srv?.stop(); });

  it("closes the connection that does not read; the healthy subscriber gets everything", async () => {
    const slow = await connect({ servers: srv.hostport, reconnect: false, name: "slow" });
    const slowStatus = watchStatus(slow);
    let slowGot = 0;
    slow.subscribe("flood", { callback: () => { slowGot++; } });
    await slow.flush();

    const healthy = await connect({ servers: srv.hostport, name: "healthy" });
    const pub = await connect({ servers: srv.hostport, name: "flooder" });
    try {
      let got = 0, target = 0, wake = null, outOfOrder = null;
      healthy.subscribe("flood", {
        callback: (_, m) => {
          const seq = m.data[0] | (m.data[1] << 8);
          if (seq !== got && !outOfOrder) outOfOrder = `expected ${got}, got ${seq}`;
          got++;
          if (wake && got >= target) { const w = wake; wake = null; w(); }
        },
      });
      await healthy.flush();

      // Stop reading on the slow connection: the client library reads eagerly, so
      // pause its socket (an internal of @nats-io/transport-node, pinned version).
      const sock = slow.protocol?.transport?.socket;
      assert.ok(sock && typeof sock.pause === "function", "transport socket reachable");
      sock.pause();

      const flood = (async () => {
        for (let i = 0; i < TOTAL; i += BATCH) {
          for (let j = i; j < i + BATCH; j++) {
            const payload = new Uint8Array(MSG_SIZE); // nats.js queues it by reference
            payload[0] = j & 0xff;
            payload[1] = j >> 8;
            pub.publish("flood", payload);
          }
          target = i + BATCH;
          // wait for the healthy subscriber before the next round
          await new Promise((resolve) => { if (got >= target) resolve(); else wake = resolve; });
        }
      })();
      await withDeadline(flood, 60_000, "the healthy subscriber to receive the flood");
      assert.equal(got, TOTAL);
      assert.equal(outOfOrder, null);

      // Let the slow client read what reached it: it must then find the connection closed.
      sock.resume();
      await withDeadline(slow.closed(), 20_000, "the slow connection to be closed by the server");
      assert.ok(slowStatus.types().includes("disconnect"), `status events: ${slowStatus.types()}`);
      assert.ok(slowGot < TOTAL, `slow consumer got ${slowGot} of ${TOTAL}: it was cut off`);

      // the server and the other connections carry on
      assert.equal(healthy.isClosed(), false);
      assert.equal(pub.isClosed(), false);
      await pub.flush();
      const r = healthy.subscribe("after.flood", { max: 1 });
      await healthy.flush();
      pub.publish("after.flood", "ok");
      for await (const m of r) assert.equal(m.string(), "ok");
    } finally {
      if (!slow.isClosed()) await slow.close();
      await healthy.close();
      await pub.close();
    }
  });
});
