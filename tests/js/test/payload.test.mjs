// Payload sizes: up to the advertised max_payload, and the limit enforced.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { forEachServer, RawClient, startServer, take, withDeadline } from "../lib/harness.mjs";

function randomBytes(n) {
  return new Uint8Array(crypto.randomBytes(n));
}

forEachServer("payloads", (kind) => {
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

  it("delivers payloads of every size up to max_payload intact", async () => {
    const max = pub.info.max_payload;
    assert.equal(max, 1024 * 1024);
    const sizes = [0, 1, 2, 127, 4096, 65535, 65536, 65537, 500_000, max - 1, max];
    const sub = nc.subscribe("big.one");
    await nc.flush();
    const sent = sizes.map(randomBytes);
    for (const p of sent) pub.publish("big.one", p);
    const got = await withDeadline(take(sub, sent.length), 20_000, "large messages");
    got.forEach((m, i) => {
      assert.equal(m.data.length, sizes[i], `size of message ${i}`);
      assert.ok(Buffer.from(m.data).equals(Buffer.from(sent[i])), `content of ${sizes[i]}-byte message`);
    });
  });

  it("delivers a max_payload message with headers (max_payload covers headers + body)", async () => {
    const sub = nc.subscribe("big.hdr");
    await nc.flush();
    const { headers } = await import("@nats-io/transport-node");
    const h = headers();
    h.set("K", "v");
    // Header block "NATS/1.0\r\nK: v\r\n\r\n" = 18 bytes.
    const body = randomBytes(pub.info.max_payload - 18);
    pub.publish("big.hdr", body, { headers: h });
    const [m] = await withDeadline(take(sub, 1), 20_000, "max-size header message");
    assert.equal(m.headers.get("K"), "v");
    assert.ok(Buffer.from(m.data).equals(Buffer.from(body)));
  });

  it("the client refuses a payload larger than max_payload", async () => {
    const tooBig = new Uint8Array(pub.info.max_payload + 1);
    assert.throws(() => pub.publish("big.refused", tooBig), /max_payload/);
    // the connection is still usable
    await pub.flush();
    assert.equal(pub.isClosed(), false);
  });

  it("the server answers an oversized PUB with 'Maximum Payload Violation' and closes", async () => {
    const raw = await new RawClient(srv.port).connect();
    try {
      await raw.until((b) => b.includes("\r\n"), 5000, "INFO");
      raw.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n');
      await raw.until((b) => b.includes("PONG\r\n"), 5000, "PONG");
      raw.write(`PUB big.raw ${1024 * 1024 + 1}\r\n`);
      const out = await raw.until((b, closed) => closed, 5000, "connection close");
      assert.match(out, /-ERR 'Maximum Payload Violation'\r\n/);
    } finally {
      raw.destroy();
    }
  });
});

forEachServer("payloads with max_payload: 64KB", (kind) => {
  let srv;
  before(async () => { srv = await startServer(kind, { config: "max_payload: 64KB\n" }); });
  after(async () => { await srv?.stop(); });

  it("advertises the configured max_payload and enforces it", async () => {
    const nc = await connect({ servers: srv.hostport });
    try {
      assert.equal(nc.info.max_payload, 65536);
      const sub = nc.subscribe("cfg.max");
      await nc.flush();
      const body = randomBytes(65536);
      nc.publish("cfg.max", body);
      const [m] = await withDeadline(take(sub, 1), 5000, "64 KB message");
      assert.ok(Buffer.from(m.data).equals(Buffer.from(body)));
      assert.throws(() => nc.publish("cfg.max", new Uint8Array(65537)), /max_payload/);
    } finally {
      await nc.close();
    }
  });
});
