/**
 * The footprint baseline: the least an edge service does with bare mqtt.js — connect over ws,
 * subscribe to one topic (QoS 1), print each message as one JSON line on stdout — with no store,
 * no inbox, no log. Node or Deno: `node bench/lib/bare-service.ts URL TOPIC`.
 */
import mqtt from "mqtt";
import process from "node:process";

const [url, topic] = process.argv.slice(2);
if (!url || !topic) {
  process.stderr.write("usage: bare-service.ts URL TOPIC\n");
  process.exit(2);
}
const client = mqtt.connect(url, { clientId: `bare-svc-${process.pid}`, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
const decoder = new TextDecoder();
client.on("connect", () => {
  client.subscribe(topic, { qos: 1 }, () => process.stderr.write(`{"msg":"status","state":"online"}\n`));
});
client.on("message", (t, payload, packet) => {
  process.stdout.write(JSON.stringify({ topic: t, qos: packet.qos, receivedAt: Date.now(), bytes: payload.byteLength, payload: decoder.decode(payload) }) + "\n");
});
client.on("error", (e) => process.stderr.write(`{"msg":"error","error":${JSON.stringify(String(e))}}\n`));
const stop = () => client.end(false, () => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
