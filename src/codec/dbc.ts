/**
 * DBC files: parse them, then decode CAN frames to physical signal values.
 *
 * @example
 * ```ts
 * const dbc = parseDbc(await Deno.readTextFile("vehicle.dbc"));
 * for (const p of decodeCan(payload).points) {
 *   for (const r of p.readings) {
 *     const m = findDbcMessage(dbc, r.canId);
 *     if (m) console.log(p.timestamp, m.name, decodeDbcMessage(m, r.data).signals);
 *   }
 * }
 * ```
 * @module
 */
export { parseDbc } from "./dbc-parse.ts";
export { decodeDbcMessage, decodeSignals, findDbcMessage } from "./dbc-decode.ts";
export type { Dbc, DbcMessage, DbcSignal, DecodedSignals, DecodeSignalsOptions } from "./dbc-types.ts";
