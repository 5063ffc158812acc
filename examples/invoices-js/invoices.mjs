// Invoices work queue with nats.js v3: a work-queue stream INVOICES on
// invoices.>, a durable pull consumer invoice-processor with explicit acks.
//
//   node invoices.mjs --publish 5   # publish 5 invoices, then process
//   node invoices.mjs               # process what is queued
//
// NATS_URL (default 127.0.0.1:4222) selects the server.
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";

const args = process.argv.slice(2);
const publishIdx = args.indexOf("--publish");
const toPublish = publishIdx >= 0 ? Number(args[publishIdx + 1]) : 0;
const servers = process.env.NATS_URL || "127.0.0.1:4222";

const nc = await connect({ servers });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);

try {
  await jsm.streams.info("INVOICES");
} catch {
  await jsm.streams.add({ name: "INVOICES", subjects: ["invoices.>"], retention: "workqueue" });
}
try {
  await jsm.consumers.info("INVOICES", "invoice-processor");
} catch {
  await jsm.consumers.add("INVOICES", {
    durable_name: "invoice-processor",
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000_000_000,
    max_deliver: 5,
  });
}

for (let i = 1; i <= toPublish; i++) {
  const invoice = { id: `INV-${String(i).padStart(4, "0")}`, customer: `customer-${i % 3}`, amount: i * 12.5 };
  const ack = await js.publish("invoices.new", JSON.stringify(invoice));
  console.log(`published ${invoice.id} as seq ${ack.seq}`);
}

const consumer = await js.consumers.get("INVOICES", "invoice-processor");
let processed = 0;
while (true) {
  const batch = await consumer.fetch({ max_messages: 10, expires: 2000 });
  let got = 0;
  for await (const m of batch) {
    got++;
    let invoice;
    try {
      invoice = m.json();
    } catch {
      m.term("malformed invoice");
      continue;
    }
    console.log(`processing ${invoice.id} for ${invoice.customer}: ${invoice.amount.toFixed(2)} ` +
      `(delivery ${m.info.deliveryCount})`);
    if (await m.ackAck()) processed++;
  }
  if (got === 0) break;
}
const info = await jsm.streams.info("INVOICES");
console.log(`processed ${processed} invoices; ${info.state.messages} left in INVOICES`);
await nc.close();
