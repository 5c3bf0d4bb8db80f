/**
 * Child process of test/node/store-sqlite.test.ts: appends `count` messages in batches of `batch`
 * to the SQLite file `path`, message ids `<id>-<n>`, and prints the seqs it got as JSON.
 * Usage: node test/node/store-sqlite-child.ts <path> <id> <count> <batch>
 */
import { openSqliteStore } from "../../src/store/sqlite.ts";

const [path, id, countArg, batchArg] = process.argv.slice(2);
const count = Number(countArg);
const batch = Number(batchArg);
const store = await openSqliteStore(path as string, { busyTimeoutMs: 20_000 });
const seqs: number[] = [];
for (let n = 0; n < count; n += batch) {
  const entries = [];
  for (let i = n; i < Math.min(count, n + batch); i++) {
    entries.push({ topic: `t/${id}`, payload: new TextEncoder().encode(`${id} ${i}`), qos: 1 as const, retain: false, createdAt: Date.now(), messageId: `${id}-${i}` });
  }
  const recs = await store.outbox.append(entries);
  for (const r of recs) seqs.push(r.seq);
  // yield so the other process gets the lock between batches
  await new Promise((r) => setTimeout(r, 0));
}
await store.close();
process.stdout.write(JSON.stringify(seqs));
