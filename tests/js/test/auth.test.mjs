// Authentication and permissions through nats.js: token, user/password,
// bcrypt users, permission violations (reported on the subscription and as
// status events, the connection staying open) and no_auth_user.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect, errors } from "@nats-io/transport-node";
import { forEachServer, startServer, take, withDeadline } from "../lib/harness.mjs";

const WAIT = 10_000;

// bcrypt of "alice-pw" (cost 11), as `nats server passwd` prints it.
const ALICE_HASH = "$2a$11$MXjhE.l9F0P3tYZRhCRwmeGQaTVTZZdDZsITdHC3i9kC/ayzx0OaK";

async function expectAuthFailure(srv, opts, what) {
  await assert.rejects(
    connect({ servers: srv.hostport, reconnect: false, timeout: WAIT, ...opts }),
    (err) => {
      assert.ok(err instanceof errors.AuthorizationError,
        `${what}: AuthorizationError expected, got ${err?.name}: ${err?.message}`);
      assert.match(err.message, /authorization violation/i);
      return true;
    },
    what,
  );
}

// A message published on `nc` comes back through its own subscription.
async function roundTrip(nc, subject) {
  const sub = nc.subscribe(subject, { max: 1 });
  await nc.flush();
  nc.publish(subject, "rt");
  const [m] = await withDeadline(take(sub, 1), WAIT, `round trip on ${subject}`);
  assert.equal(m.string(), "rt");
  assert.equal(nc.isClosed(), false);
}

// Collects the connection's "error" status events; next(pred) resolves
// with the first one (seen before or after the call) that matches pred.
function errorEvents(nc) {
  const seen = [];
  const waiters = [];
  (async () => {
    for await (const s of nc.status()) {
      if (s.type !== "error") continue;
      seen.push(s.error);
      for (const w of [...waiters]) {
        if (w.pred(s.error)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(s.error);
        }
      }
    }
  })().catch(() => { /* ends on close */ });
  return {
    next(pred, what) {
      const found = seen.find(pred);
      if (found) return Promise.resolve(found);
      return withDeadline(new Promise((resolve) => waiters.push({ pred, resolve })), WAIT, what);
    },
  };
}

const violation = (op, subject) => (e) =>
  e instanceof errors.PermissionViolationError && e.operation === op && e.subject === subject;

forEachServer("auth: token", (kind) => {
  let srv;
  before(async () => {
    srv = await startServer(kind, { config: 'authorization {\n  token: "s3cr3t-t0ken"\n}\n' });
  });
  after(async () => { await srv?.stop(); });

  it("connects with the token and says auth is required", async () => {
    const nc = await connect({ servers: srv.hostport, token: "s3cr3t-t0ken" });
    try {
      assert.equal(nc.info.auth_required, true);
      await roundTrip(nc, "tok.rt");
    } finally {
      await nc.close();
    }
  });

  it("refuses a wrong or missing token with an AuthorizationError", async () => {
    await expectAuthFailure(srv, { token: "wrong" }, "wrong token");
    await expectAuthFailure(srv, {}, "no token");
  });
});

forEachServer("auth: user/password", (kind) => {
  let srv;
  before(async () => {
    srv = await startServer(kind, {
      config: `authorization {
  users = [
    {user: alice, password: "${ALICE_HASH}"}
    {user: bob, password: "bob pw"}
  ]
}
`,
    });
  });
  after(async () => { await srv?.stop(); });

  it("connects a bcrypt user and a plain-password user", async () => {
    const a = await connect({ servers: srv.hostport, user: "alice", pass: "alice-pw" });
    const b = await connect({ servers: srv.hostport, user: "bob", pass: "bob pw" });
    try {
      await roundTrip(a, "up.a");
      await roundTrip(b, "up.b");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses wrong passwords, unknown users and no credentials", async () => {
    await expectAuthFailure(srv, { user: "alice", pass: "bob pw" }, "wrong password");
    await expectAuthFailure(srv, { user: "alice", pass: ALICE_HASH }, "the hash as password");
    await expectAuthFailure(srv, { user: "carol", pass: "x" }, "unknown user");
    await expectAuthFailure(srv, {}, "no credentials");
  });
});

forEachServer("auth: permissions", (kind) => {
  let srv, admin;
  before(async () => {
    srv = await startServer(kind, {
      config: `authorization {
  users = [
    {user: admin, password: admin-pw}
    {user: app, password: app-pw, permissions: {
      publish: { allow: ["orders.>"], deny: ["orders.secret"] }
      subscribe: { allow: ["orders.*", "_INBOX.>", "jobs.* workers"], deny: ["orders.private"] }
    }}
  ]
}
`,
    });
    admin = await connect({ servers: srv.hostport, user: "admin", pass: "admin-pw" });
  });
  after(async () => {
    await admin?.close();
    await srv?.stop();
  });

  it("reports a subscribe violation on the subscription and keeps the connection", async () => {
    const nc = await connect({ servers: srv.hostport, user: "app", pass: "app-pw" });
    const status = errorEvents(nc);
    try {
      const refused = nc.subscribe("payments.in");
      const iterated = (async () => {
        for await (const m of refused) throw new Error(`refused subscription got ${m.subject}`);
      })();
      await assert.rejects(withDeadline(iterated, WAIT, "the refused subscription to end"), (err) => {
        assert.ok(err instanceof errors.PermissionViolationError, `got ${err?.name}: ${err?.message}`);
        assert.equal(err.operation, "subscription");
        assert.equal(err.subject, "payments.in");
        assert.equal(err.message, 'Permissions Violation for Subscription to "payments.in"');
        return true;
      });
      const closedWith = await refused.closed;
      assert.ok(closedWith instanceof errors.PermissionViolationError);
      await status.next(violation("subscription", "payments.in"), "the status error event");

      // Deny wins over the allow "orders.*"; a callback subscription is told too.
      const denied = new Promise((resolve) => {
        nc.subscribe("orders.private", { callback: (err) => resolve(err) });
      });
      const err = await withDeadline(denied, WAIT, "callback error for orders.private");
      assert.ok(err instanceof errors.PermissionViolationError);
      assert.equal(err.subject, "orders.private");

      // Queue permission: "jobs.* workers" allows that queue only.
      const badQ = nc.subscribe("jobs.build", { queue: "others" });
      const qErr = await withDeadline(badQ.closed, WAIT, "queue subscription refused");
      assert.ok(qErr instanceof errors.PermissionViolationError, `got ${qErr}`);
      assert.equal(qErr.queue, "others");
      const goodQ = nc.subscribe("jobs.build", { queue: "workers", max: 1 });

      // Still open; allowed subscriptions work.
      const ok = nc.subscribe("orders.new", { max: 1 });
      await nc.flush();
      admin.publish("jobs.build", "j");
      admin.publish("orders.new", "o");
      const [[j], [o]] = await withDeadline(Promise.all([take(goodQ, 1), take(ok, 1)]), WAIT, "deliveries");
      assert.equal(j.string(), "j");
      assert.equal(o.string(), "o");
      assert.equal(nc.isClosed(), false);
    } finally {
      await nc.close();
    }
  });

  it("reports a publish violation as a status error and keeps the connection", async () => {
    const watch = admin.subscribe("orders.>");
    await admin.flush();
    const nc = await connect({ servers: srv.hostport, user: "app", pass: "app-pw" });
    const status = errorEvents(nc);
    try {
      nc.publish("orders.secret", "no");
      const e1 = await status.next(violation("publish", "orders.secret"), "publish violation for orders.secret");
      assert.equal(e1.operation, "publish");
      assert.equal(e1.message, 'Permissions Violation for Publish to "orders.secret"');
      nc.publish("billing.x", "no");
      await status.next(violation("publish", "billing.x"), "publish violation for billing.x");

      nc.publish("orders.eu.new", "yes");
      await nc.flush();
      assert.equal(nc.isClosed(), false);
      // The refused messages never reached the admin: the first it sees is the allowed one.
      const [m] = await withDeadline(take(watch, 1), WAIT, "admin delivery");
      assert.equal(m.subject, "orders.eu.new");
    } finally {
      watch.unsubscribe();
      await nc.close();
    }
  });
});

forEachServer("auth: no_auth_user", (kind) => {
  let srv;
  before(async () => {
    srv = await startServer(kind, {
      config: `authorization {
  users = [
    {user: admin, password: admin-pw}
    {user: guest, password: guest-pw, permissions: {
      publish: ["public.>"]
      subscribe: ["public.>", "_INBOX.>"]
    }}
  ]
}
no_auth_user: guest
`,
    });
  });
  after(async () => { await srv?.stop(); });

  it("gives a client without credentials the guest's permissions", async () => {
    const nc = await connect({ servers: srv.hostport });
    const status = errorEvents(nc);
    try {
      await roundTrip(nc, "public.rt");
      nc.publish("private.x", "no");
      await status.next(violation("publish", "private.x"), "publish violation");
      const sub = nc.subscribe("private.>");
      const err = await withDeadline(sub.closed, WAIT, "subscribe refused");
      assert.ok(err instanceof errors.PermissionViolationError);
      assert.equal(nc.isClosed(), false);
      await roundTrip(nc, "public.rt2");
    } finally {
      await nc.close();
    }
  });

  it("does not downgrade wrong credentials to the guest", async () => {
    await expectAuthFailure(srv, { user: "admin", pass: "nope" }, "wrong password");
  });
});
