// Test harness: starts a NATS server binary (sluice-server or the reference
// nats-server) on a free loopback port with its own temp dir, and stops it by PID.
//
// Every test file calls forEachServer(), which repeats its suite once per server
// under test, so the reference server proves each test right and Sluice is
// checked against the same expectations.
//
// Environment:
//   SLUICE_SERVER   path of sluice-server (default ../../build/sluice-server from tests/js)
//   NATS_SERVER     path or name of the reference nats-server (default "nats-server")
//   SLUICE_TARGETS  comma-separated subset of "nats-server,sluice" (default both)

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe } from "node:test";
import { connect } from "@nats-io/transport-node";

const here = path.dirname(fileURLToPath(import.meta.url));
export const jsTestsDir = path.resolve(here, "..");

export const SERVER_KINDS = {
  "nats-server": {
    name: "nats-server",
    bin: process.env.NATS_SERVER || "nats-server",
    // what INFO.version must say
    expectedVersion: null, // whatever the installed reference reports
  },
  sluice: {
    name: "sluice",
    bin: process.env.SLUICE_SERVER ||
      path.resolve(jsTestsDir, "../../build/sluice-server"),
    expectedVersion: "2.11.0",
  },
};

export function selectedServers() {
  const wanted = (process.env.SLUICE_TARGETS || "nats-server,sluice")
    .split(",").map((s) => s.trim()).filter(Boolean);
  return wanted.map((w) => {
    const k = SERVER_KINDS[w];
    if (!k) throw new Error(`SLUICE_TARGETS: unknown server "${w}"`);
    return k;
  });
}

// Runs `body(kind)` inside describe(kind.name) for every server under test.
export function forEachServer(title, body) {
  for (const kind of selectedServers()) {
    describe(`${title} [${kind.name}]`, () => body(kind));
  }
}

// ---------------------------------------------------------------------------
// Process bookkeeping: whatever happens, no server outlives the test process.
const live = new Set();
process.on("exit", () => {
  for (const child of live) {
    try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone */ }
  }
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Resolves with the first bytes of the greeting if a TCP connect to port reads
// "INFO ", rejects otherwise (refused, closed, or something else was read).
export function probeInfo(port, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (err, v) => {
      clearTimeout(timer);
      sock.destroy();
      err ? reject(err) : resolve(v);
    };
    const timer = setTimeout(() => done(new Error("probe timed out")), timeoutMs);
    sock.setEncoding("latin1");
    sock.on("data", (d) => {
      buf += d;
      if (buf.length >= 5) {
        if (buf.startsWith("INFO ")) done(null, buf);
        else done(new Error(`unexpected greeting ${JSON.stringify(buf.slice(0, 40))}`));
      }
    });
    sock.on("error", (e) => done(e));
    sock.on("close", () => done(new Error("closed before INFO")));
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

function checkBinary(kind) {
  if (kind.bin.includes("/")) {
    if (!fs.existsSync(kind.bin)) {
      throw new Error(`${kind.name}: binary not found at ${kind.bin} ` +
        `(build it, or set ${kind.name === "sluice" ? "SLUICE_SERVER" : "NATS_SERVER"}; ` +
        `SLUICE_TARGETS=nats-server runs the reference only)`);
    }
  } else {
    const r = spawnSync("sh", ["-c", `command -v "${kind.bin}"`]);
    if (r.status !== 0) throw new Error(`${kind.name}: "${kind.bin}" not on PATH`);
  }
}

/**
 * Starts a server of the given kind.
 * @param kind   one of SERVER_KINDS
 * @param opts.config  text of a nats-server config file (written to the temp dir)
 * @param opts.port    a port to use (e.g. restarting on the same port); else a free one
 * @param opts.jetstream  start JetStream with a store dir inside the server's temp dir
 * @returns {Promise<RunningServer>}
 */
export async function startServer(kind, opts = {}) {
  checkBinary(kind);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-js-${kind.name}-`));
  let lastErr;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = opts.port ?? await freePort();
    const args = ["-a", "127.0.0.1", "-p", String(port)];
    if (opts.config !== undefined) {
      const conf = path.join(dir, "server.conf");
      fs.writeFileSync(conf, opts.config);
      args.push("-c", conf);
    }
    if (opts.jetstream) args.push("-js", "-sd", path.join(dir, "store"));
    const logPath = path.join(dir, `server-${attempt}.log`);
    const logFd = fs.openSync(logPath, "w");
    const child = spawn(kind.bin, args, {
      cwd: dir,
      stdio: ["ignore", logFd, logFd],
      env: { ...process.env, TMPDIR: dir },
    });
    fs.closeSync(logFd);
    live.add(child);
    const exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => { live.delete(child); resolve({ code, signal }); });
      child.on("error", (err) => { live.delete(child); resolve({ code: -1, signal: null, err }); });
    });
    let exitInfo = null;
    exited.then((e) => { exitInfo = e; });

    const deadline = Date.now() + 10_000;
    while (!exitInfo && Date.now() < deadline) {
      try {
        await probeInfo(port);
        const srv = new RunningServer(kind, child, port, dir, logPath, exited);
        return srv;
      } catch (e) {
        lastErr = e;
        await delay(20); // polling for the listener to appear; no signal exists
      }
    }
    const log = readTail(logPath);
    if (!exitInfo) {
      // Neither exited nor answered: give up on this one.
      try { child.kill("SIGKILL"); } catch { /* gone */ }
      await exited;
      throw new Error(`${kind.name} did not greet with INFO on port ${port} ` +
        `(${lastErr?.message}); log:\n${log}`);
    }
    lastErr = new Error(`${kind.name} exited (${JSON.stringify(exitInfo)}) on port ${port}; log:\n${log}`);
    if (opts.port !== undefined) break; // a fixed port: no point trying another
    // Only a lost race for the port is worth another try; a bad config is not.
    if (!/address already in use|bind/i.test(log)) break;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}

function readTail(p, n = 4000) {
  try {
    const s = fs.readFileSync(p, "utf8");
    return s.slice(-n);
  } catch {
    return "(no log)";
  }
}

export class RunningServer {
  constructor(kind, child, port, dir, logPath, exited) {
    this.kind = kind;
    this.child = child;
    this.pid = child.pid;
    this.port = port;
    this.dir = dir;
    this.logPath = logPath;
    this.exited = exited;
    this.hostport = `127.0.0.1:${port}`;
  }

  log() { return readTail(this.logPath, 20000); }

  get running() { return this.child.exitCode === null && this.child.signalCode === null; }

  // SIGTERM, then SIGKILL after the deadline. Keeps the temp dir unless `cleanup`.
  async stop({ deadlineMs = 5000, cleanup = true } = {}) {
    if (this.running) {
      try { process.kill(this.pid, "SIGTERM"); } catch { /* gone */ }
      const t = setTimeout(() => {
        try { process.kill(this.pid, "SIGKILL"); } catch { /* gone */ }
      }, deadlineMs);
      await this.exited;
      clearTimeout(t);
    }
    if (cleanup) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Small async helpers shared by the tests.

// Rejects with a descriptive error if `p` does not settle within ms.
export function withDeadline(p, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`deadline (${ms} ms) passed waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

// Collects up to `n` messages from an async-iterable subscription (or until it ends).
export async function take(sub, n) {
  const out = [];
  if (n === 0) return out;
  for await (const m of sub) {
    out.push(m);
    if (out.length >= n) break;
  }
  return out;
}

// Returns a promise resolved with the first status event of the given type,
// plus the list of every status event seen.
export function watchStatus(nc) {
  const seen = [];
  const waiters = [];
  (async () => {
    for await (const s of nc.status()) {
      seen.push(s);
      for (const w of [...waiters]) {
        if (w.type === s.type) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(s);
        }
      }
    }
  })().catch(() => { /* iterator ends on close */ });
  return {
    seen,
    types: () => seen.map((s) => s.type),
    next(type) {
      const found = seen.find((s) => s.type === type);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ type, resolve }));
    },
  };
}

// A minimal raw protocol client for the few checks nats.js cannot make
// (e.g. what the server writes before closing).
export class RawClient {
  constructor(port) {
    this.port = port;
    this.buf = "";
    this.closed = false;
    this.waiters = [];
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.connect({ host: "127.0.0.1", port: this.port }, () => resolve(this));
      this.sock.setEncoding("latin1");
      this.sock.on("data", (d) => { this.buf += d; this._wake(); });
      this.sock.on("error", (e) => { this.error = e; });
      this.sock.on("close", () => { this.closed = true; this._wake(); });
      this.sock.once("error", reject);
    });
  }

  _wake() {
    for (const w of [...this.waiters]) {
      if (w.check()) this.waiters.splice(this.waiters.indexOf(w), 1);
    }
  }

  // Waits until pred(buffer, closed) is true.
  until(pred, ms, what) {
    return withDeadline(new Promise((resolve) => {
      const w = { check: () => { if (pred(this.buf, this.closed)) { resolve(this.buf); return true; } return false; } };
      if (!w.check()) this.waiters.push(w);
    }), ms, what);
  }

  write(s) { this.sock.write(s); }
  destroy() { this.sock.destroy(); }
}

// For a suite: starts a JetStream-enabled server of `kind` and connects to it
// before the tests, then `ready(srv, nc)` (create the managers there); closes
// the connection and stops the server after them.
export function withJetStreamServer(kind, ready) {
  let srv, nc;
  before(async () => {
    srv = await startServer(kind, { jetstream: true });
    nc = await connect({ servers: srv.hostport });
    await ready(srv, nc);
  });
  after(async () => {
    await nc?.close();
    await srv?.stop();
  });
}
