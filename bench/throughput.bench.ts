/**
 * Throughput: one client publishes N messages over ws to Mosquitto on loopback, and one bare
 * mqtt.js subscriber (the same for every side) receives them. The subscriber connects over TCP:
 * Mosquitto 2.0.11 delivers packets over ~4 KiB to WebSocket clients at ~5 msg/s (its
 * libwebsockets write path, eclipse-mosquitto/mosquitto#1390), which would measure the broker,
 * not the publisher.
 *
 * The figure, the same for every side: messages/s = N ÷ (t_end − t_0), where
 *   t_0   = just before the first publish call,
 *   t_end = the later of (a) the subscriber receiving the N-th message and (b) the publisher
 *           reporting everything done: bare mqtt.js — the callback of the last publish (QoS 1:
 *           its PUBACK; QoS 0: written to the socket); thingwire — `device.flush()` resolving
 *           (every message stored, sent and, at QoS 1, acknowledged).
 * Both sides issue all N publish calls at once without awaiting each one (thingwire then awaits
 * all the publish promises, then flush()). Connecting is outside the timing.
 *
 * Sides: bare mqtt.js; thingwire with memoryStore(); thingwire with openSqliteStore() (a file in
 * tmp, WAL). Cases: QoS 0 and 1 × 200 B and 4 KiB. One warm-up run per side and case, then RUNS
 * measured runs interleaved across sides; the median is reported. Runs under Node and Deno; the
 * results file is throughput-<runtime>.json.
 *
 * Options: --runs=5 --sides=bare,memory,sqlite --cases=q0-200,q1-4096 --scale=1 (multiplies N).
 */
import mqtt from "mqtt";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { startBenchBroker, mosquittoVersion } from "./lib/mosquitto.ts";
import { type Chart, round, row, type Row, writeResult } from "./lib/results.ts";
import { median, runtime, runtimeVersion, tryImport } from "./lib/stats.ts";
import type { Device, DeviceOptions } from "../src/device/types.ts";
import type { Store } from "../src/store/store.ts";

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const RUNS = Number(arg("runs", "5"));
const SCALE = Number(arg("scale", "1"));
const wantSides = new Set(arg("sides", "bare,memory,sqlite").split(","));
const wantCases = arg("cases", "");
/** Diagnostics (not used by npm run bench): Mosquitto's max_inflight_messages (its MQTT 5 Receive Maximum), thingwire's outbox.inFlight. */
const BROKER_INFLIGHT = arg("broker-inflight", "");
const TW_INFLIGHT = arg("tw-inflight", "");
/** Diagnostic: bare mqtt.js also sends a 24-hex-char `tw-id` user property per message, as thingwire's outbox does. */
const BARE_USERPROP = process.argv.includes("--bare-userprop");

interface Case {
  id: string;
  qos: 0 | 1;
  size: number;
  n: number;
}
const ALL_CASES: Case[] = [
  { id: "q0-200", qos: 0, size: 200, n: 20_000 },
  { id: "q1-200", qos: 1, size: 200, n: 20_000 },
  { id: "q0-4096", qos: 0, size: 4096, n: 10_000 },
  { id: "q1-4096", qos: 1, size: 4096, n: 10_000 },
];
const CASES: Case[] = ALL_CASES.filter((c) => !wantCases || wantCases.split(",").includes(c.id)).map((c) => ({ ...c, n: Math.round(c.n * SCALE) }));

/** A publishing side: connects (untimed), then publishes N and resolves when its side is done. */
interface Publisher {
  publishAll(topic: string, payload: Uint8Array, qos: 0 | 1, n: number): Promise<number>;
  close(): Promise<void>;
}
interface Side {
  id: string;
  name: string;
  open(url: string, clientId: string): Promise<Publisher>;
}

const bare: Side = {
  id: "bare",
  name: "bare mqtt.js",
  async open(url, clientId) {
    const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 5, reconnectPeriod: 0 });
    return {
      publishAll(topic, payload, qos, n) {
        return new Promise((resolve, reject) => {
          let left = n;
          const done = (err?: Error) => {
            if (err) reject(err);
            else if (--left === 0) resolve(performance.now());
          };
          for (let i = 0; i < n; i++) {
            const opts = BARE_USERPROP ? { qos, properties: { userProperties: { "tw-id": (i + 1e23).toString(16).padStart(24, "0").slice(-24) } } } : { qos };
            client.publish(topic, payload as Buffer, opts, done);
          }
        });
      },
      close: () => client.endAsync(),
    };
  },
};

type CreateDevice = (o: DeviceOptions) => Device;
function thingwireSide(id: string, name: string, createDevice: CreateDevice, makeStore: (clientId: string) => Promise<{ store: Store; cleanup(): void }>): Side {
  return {
    id,
    name,
    async open(url, clientId) {
      const { store, cleanup } = await makeStore(clientId);
      const device = createDevice({ url, clientId, store, ...(TW_INFLIGHT ? { outbox: { inFlight: Number(TW_INFLIGHT) } } : {}) });
      await new Promise<void>((resolve, reject) => {
        if (device.status.state === "online") return resolve();
        const timer = setTimeout(() => reject(new Error(`${name}: not online within 15 s (${device.status.reason})`)), 15_000);
        const off = device.on("status", (s) => {
          if (s.state === "online") {
            clearTimeout(timer);
            off();
            resolve();
          }
        });
      });
      return {
        async publishAll(topic, payload, qos, n) {
          const pending: Promise<unknown>[] = new Array(n);
          for (let i = 0; i < n; i++) pending[i] = device.publish(topic, payload, { qos });
          await Promise.all(pending);
          await device.flush({ timeoutMs: 300_000 });
          return performance.now();
        },
        async close() {
          await device.close();
          await store.close();
          cleanup();
        },
      };
    },
  };
}

const notes: string[] = [];
const sides: Side[] = [];
if (wantSides.has("bare")) sides.push(bare);
const dev = await tryImport<{ createDevice: CreateDevice }>(new URL("../src/device/device.ts", import.meta.url).href);
const mem = await tryImport<{ memoryStore: () => Store }>(new URL("../src/store/memory.ts", import.meta.url).href);
const sql = await tryImport<{ openSqliteStore: (path: string) => Promise<Store> }>(new URL("../src/store/sqlite.ts", import.meta.url).href);
if (!dev.ok) notes.push(`Not measured: thingwire (createDevice: ${dev.why}).`);
if (dev.ok && wantSides.has("memory")) {
  if (mem.ok) {
    const memoryStore = mem.mod.memoryStore;
    sides.push(thingwireSide("memory", "thingwire, memory store", dev.mod.createDevice, async () => ({ store: memoryStore(), cleanup() {} })));
  } else notes.push(`Not measured: thingwire memory store (${mem.why}).`);
}
if (dev.ok && wantSides.has("sqlite")) {
  if (sql.ok) {
    const open = sql.mod.openSqliteStore;
    sides.push(thingwireSide("sqlite", "thingwire, SQLite store", dev.mod.createDevice, async (clientId) => {
      const path = join(tmpdir(), `tw-bench-${clientId}.db`);
      const cleanup = () => {
        for (const ext of ["", "-wal", "-shm", "-journal"]) rmSync(path + ext, { force: true });
      };
      cleanup();
      return { store: await open(path), cleanup };
    }));
  } else notes.push(`Not measured: thingwire SQLite store (${sql.why}).`);
}

/** A bare mqtt.js subscriber; `expect(n)` resolves with the time the n-th message arrived. */
async function subscriber(url: string, topic: string, qos: 0 | 1) {
  const client = await mqtt.connectAsync(url, { clientId: `sub-${Math.random().toString(36).slice(2)}`, protocolVersion: 5, reconnectPeriod: 0 });
  await client.subscribeAsync(topic, { qos });
  let count = 0;
  let target = Infinity;
  let resolveAll: (t: number) => void = () => {};
  client.on("message", () => {
    if (++count === target) resolveAll(performance.now());
  });
  return {
    expect(n: number) {
      count = 0;
      target = n;
      return new Promise<number>((resolve) => (resolveAll = resolve));
    },
    get count() {
      return count;
    },
    close: () => client.endAsync(),
  };
}

let seq = 0;
async function once(url: string, subUrl: string, side: Side, c: Case, n: number): Promise<number> {
  const id = `${side.id}-${c.id}-${process.pid}-${seq++}`;
  const topic = `bench/tp/${id}`;
  const sub = await subscriber(subUrl, topic, c.qos);
  const pub = await side.open(url, `pub-${id}`);
  const payload = new Uint8Array(c.size);
  for (let i = 0; i < c.size; i++) payload[i] = (i * 31 + 7) & 0xff;
  try {
    const got = sub.expect(n);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${side.name} ${c.id}: subscriber got ${sub.count}/${n} within 300 s`)), 300_000).unref?.());
    const t0 = performance.now();
    const [tPub, tSub] = await Promise.race([Promise.all([pub.publishAll(topic, payload, c.qos, n), got]), timeout]);
    return n / ((Math.max(tPub, tSub) - t0) / 1000);
  } finally {
    await pub.close();
    await sub.close();
  }
}

const broker = await startBenchBroker(BROKER_INFLIGHT ? { extraConfig: [`max_inflight_messages ${BROKER_INFLIGHT}`] } : {});
const rates = new Map<string, number[]>();
try {
  for (const c of CASES) {
    for (const side of sides) {
      const r = await once(broker.wsUrl, broker.tcpUrl, side, c, Math.max(500, Math.round(c.n / 5)));
      console.log(`throughput ${runtime}: warm-up ${side.id} ${c.id}: ${Math.round(r)} msg/s`);
    }
    for (let run = 0; run < RUNS; run++) {
      // Interleave sides, rotating the order each run, so drift hits every side alike.
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(k + run) % sides.length]!;
        const r = await once(broker.wsUrl, broker.tcpUrl, side, c, c.n);
        const key = `${side.id} ${c.id}`;
        rates.set(key, [...(rates.get(key) ?? []), r]);
        console.log(`throughput ${runtime}: ${side.id} ${c.id} run ${run + 1}: ${Math.round(r)} msg/s`);
      }
    }
  }
} finally {
  await broker.dispose();
}

const rows: Row[] = [];
const med = (side: string, c: Case) => {
  const r = rates.get(`${side} ${c.id}`);
  return r ? Math.round(median(r)) : null;
};
const label = (c: Case) => `QoS ${c.qos}, ${c.size === 4096 ? "4 KiB" : `${c.size} B`} × ${c.n.toLocaleString("en-US")}`;
for (const c of CASES) {
  const base = med("bare", c);
  for (const [id, goal, min] of [["memory", "≥ 0.95×", 0.95], ["sqlite", "≥ 0.8×", 0.8]] as const) {
    if (!sides.some((s) => s.id === id) && !(id === "memory" ? !dev.ok || !mem.ok : !dev.ok || !sql.ok)) continue;
    const tw = med(id, c);
    rows.push(row({
      case: `${label(c)}, ${id === "memory" ? "memory store" : "SQLite store"}`,
      thingwire: tw,
      baseline: base,
      baselineName: "bare mqtt.js",
      unit: "msg/s",
      better: "higher",
      goal,
      ...(tw !== null && base !== null ? { met: tw / base >= min } : {}),
    }));
  }
}
const spread = [...rates].map(([k, v]) => `${k}: ${v.map((x) => Math.round(x)).join(" / ")}`).join("; ");
notes.push(
  `${runtimeVersion()}, mqtt.js ${JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(new URL("../node_modules/mqtt/package.json", import.meta.url), "utf8"))).version}, Mosquitto ${mosquittoVersion()} (publisher over ws, subscriber over TCP, both 127.0.0.1; max_queued_messages 0, default receive maximum 20), MQTT 5.`,
  "The subscriber uses TCP because Mosquitto 2.0.11 sends packets larger than ~4 KiB to WebSocket clients at about 5 msg/s (measured here: 1,000 × 8 KiB QoS 0 to a ws subscriber, 343 delivered in 3 s; eclipse-mosquitto/mosquitto#1390). That limit also applies to thingwire devices receiving large messages from Mosquitto over ws.",
  `messages/s = N ÷ (t_end − t_0); t_0 just before the first publish call; t_end = later of the subscriber's N-th message and the publisher being done (bare: last publish callback — PUBACK at QoS 1, written at QoS 0; thingwire: all publish() promises then flush() resolved). Median of ${RUNS} runs after a warm-up; sides interleaved.`,
  `All runs (msg/s): ${spread}.`,
);
const chart: Chart = {
  file: `throughput-${runtime}.png`,
  title: `Publish throughput over ws to Mosquitto, ${runtimeVersion()} (msg/s, higher is better)`,
  kind: "bar",
  xLabel: "",
  yLabel: "msg/s",
  categories: CASES.map((c) => `QoS ${c.qos} ${c.size === 4096 ? "4 KiB" : `${c.size} B`}`),
  series: sides.map((s) => ({ name: s.name, points: CASES.map((c, i) => [i, med(s.id, c) ?? 0] as [number, number]) })),
};
writeResult(`throughput-${runtime}`, {
  title: `Throughput on ${runtime === "node" ? "Node" : "Deno"}: publish over ws to Mosquitto (msg/s)`,
  rows: rows.map((r) => ({ ...r, ratio: r.ratio === null ? null : round(r.ratio, 3) })),
  notes,
  charts: [chart],
});
process.exit(0);
