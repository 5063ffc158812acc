// Request/reply through nats.js, and the server's no-responders status.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect, errors, Empty } from "@nats-io/transport-node";
import { forEachServer, startServer } from "../lib/harness.mjs";

forEachServer("request/reply", (kind) => {
  let srv, svc, client;
  before(async () => {
    srv = await startServer(kind);
    svc = await connect({ servers: srv.hostport });
    client = await connect({ servers: srv.hostport });
    svc.subscribe("svc.echo", { callback: (_, m) => m.respond(m.data) });
    svc.subscribe("svc.upper", {
      queue: "uppers",
      callback: (_, m) => m.respond(m.string().toUpperCase()),
    });
    svc.subscribe("svc.upper", {
      queue: "uppers",
      callback: (_, m) => m.respond(m.string().toUpperCase()),
    });
    await svc.flush();
  });
  after(async () => {
    await client?.close();
    await svc?.close();
    await srv?.stop();
  });

  it("answers a request", async () => {
    const r = await client.request("svc.echo", "ping", { timeout: 5000 });
    assert.equal(r.string(), "ping");
    assert.equal(r.subject.startsWith("_INBOX."), true);
  });

  it("answers a request on its own inbox (noMux)", async () => {
    const r = await client.request("svc.echo", "solo", { timeout: 5000, noMux: true });
    assert.equal(r.string(), "solo");
  });

  it("answers 1,000 concurrent requests, each with its own reply", async () => {
    const N = 1000;
    const replies = await Promise.all(Array.from({ length: N }, (_, i) =>
      client.request(i % 2 ? "svc.echo" : "svc.upper", `req-${i}`, { timeout: 20_000 })));
    replies.forEach((r, i) => {
      assert.equal(r.string(), i % 2 ? `req-${i}` : `REQ-${i}`);
    });
  });

  it("rejects a request nobody listens to with the no-responders error", async () => {
    // A long timeout: only the server's 503 status can end this request early.
    await assert.rejects(
      client.request("nobody.home", Empty, { timeout: 15_000 }),
      (err) => {
        assert.ok(err instanceof errors.RequestError, `RequestError expected, got ${err}`);
        assert.equal(err.isNoResponders(), true, `no responders expected, got ${err.message}`);
        assert.ok(err.cause instanceof errors.NoRespondersError);
        return true;
      },
    );
  });

  it("rejects a noMux request nobody listens to with the no-responders error", async () => {
    await assert.rejects(
      client.request("nobody.home", Empty, { timeout: 15_000, noMux: true }),
      (err) => {
        assert.ok(err instanceof errors.RequestError, `RequestError expected, got ${err}`);
        assert.equal(err.isNoResponders(), true, `no responders expected, got ${err.message}`);
        return true;
      },
    );
  });

  it("reports no responders when the only subscriber is the requester itself with noEcho", async () => {
    const lonely = await connect({ servers: srv.hostport, noEcho: true });
    try {
      lonely.subscribe("self.only", { callback: (_, m) => m.respond("me") });
      await lonely.flush();
      await assert.rejects(
        lonely.request("self.only", Empty, { timeout: 15_000 }),
        (err) => err instanceof errors.RequestError && err.isNoResponders(),
      );
    } finally {
      await lonely.close();
    }
  });

  it("times out (not no-responders) when a subscriber exists but never answers", async () => {
    const mute = await connect({ servers: srv.hostport });
    try {
      mute.subscribe("svc.mute", { callback: () => {} });
      await mute.flush();
      await assert.rejects(
        client.request("svc.mute", Empty, { timeout: 300 }),
        (err) => err instanceof errors.TimeoutError,
      );
    } finally {
      await mute.close();
    }
  });

  it("still works after a no-responders answer", async () => {
    await assert.rejects(client.request("nobody.again", Empty, { timeout: 15_000 }));
    const r = await client.request("svc.echo", "after", { timeout: 5000 });
    assert.equal(r.string(), "after");
  });
});
