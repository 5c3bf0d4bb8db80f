/**
 * The mqtt handler: forwards each message to a second broker with its own address and sign-in
 * (any `auth` the config allows), to the topic template (`{topic}` = the original topic). It
 * succeeds once the target broker acknowledged the message (QoS 1 PUBACK; QoS 0: written to the
 * socket); until then it throws and is retried, without publishing the message twice.
 *
 * @example
 * ```yaml
 * handlers:
 *   - type: mqtt
 *     url: wss://other-broker:8884/mqtt
 *     auth: { type: token, username: bridge, passwordEnv: OTHER_BROKER_PASSWORD }
 *     topic: fleet/{thingId}/{topic}
 * ```
 */
import { createDevice } from "../../device/device.ts";
import { ThingwireError } from "../../errors.ts";
import type { Device, PublishReceipt } from "../../device/types.ts";
import { memoryStore } from "../../store/memory.ts";
import type { HandlerConfig } from "../config-schema.ts";
import { deviceOptionsFor } from "../device-from-config.ts";
import type { Handler, HandlerContext } from "./handler.ts";

/** A handler forwarding to another broker. */
export async function mqttHandler(c: Extract<HandlerConfig, { type: "mqtt" }>, ctx: HandlerContext): Promise<Handler> {
  const store = memoryStore();
  const opts = await deviceOptionsFor(ctx.cfg, c.endpoint, {
    secrets: ctx.secrets,
    logger: (e) => ctx.log({ ...e, handler: c.name }),
  });
  const device: Device = createDevice({ ...opts, store });
  device.on("status", (s) => ctx.log({ level: s.state === "offline" ? "warn" : "info", msg: "handler status", handler: c.name, state: s.state, reason: s.reason }));
  // Inbox seq → publish already stored in this handler's outbox, so a retry only waits again.
  const published = new Map<number, Promise<PublishReceipt>>();
  // Messages the target broker refused for good (messageId → reason).
  const refused = new Map<string, string>();
  device.on("deadletter", (d) => {
    refused.set(d.messageId, d.reason);
    if (refused.size > 1000) refused.delete(refused.keys().next().value!);
  });
  return {
    name: c.name,
    async handle(message) {
      const topic = c.topic.replaceAll("{topic}", message.topic);
      let p = published.get(message.seq);
      if (p === undefined) {
        p = device.publish(topic, message.payload, { qos: c.qos, retain: c.retain });
        published.set(message.seq, p);
        p.catch(() => published.delete(message.seq));
      }
      const receipt = await p;
      try {
        await device.flush({ timeoutMs: c.timeoutMs });
      } catch (e) {
        if (e instanceof ThingwireError && e.code === "TIMEOUT") {
          throw new ThingwireError("TIMEOUT", `${new URL(c.endpoint.broker.url).host} has not acknowledged the message yet (${device.status.state}: ${device.status.reason})`, { cause: e });
        }
        throw e;
      }
      published.delete(message.seq);
      const reason = refused.get(receipt.messageId);
      if (reason !== undefined) {
        refused.delete(receipt.messageId);
        throw new ThingwireError("PUBLISH_REFUSED", `${new URL(c.endpoint.broker.url).host} refused the message for good: ${reason}`);
      }
    },
    async close() {
      await device.close({ flushTimeoutMs: 0 });
      await store.close();
    },
  };
}
