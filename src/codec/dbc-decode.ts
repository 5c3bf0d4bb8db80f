/**
 * Decoding frames with a parsed DBC (internal file; the functions are public through dbc.ts).
 * Each message is compiled once (bit positions, exact scaling, value tables) and cached by
 * identity, so treat a parsed `Dbc` as read-only.
 */
import { ThingwireError } from "../errors.ts";
import { compileScale, type Scale } from "./dbc-scale.ts";
import type { Dbc, DbcMessage, DbcSignal, DecodedSignals, DecodeSignalsOptions } from "./dbc-types.ts";

interface Compiled {
  name: string;
  /** First and last byte the signal touches; `need` = last + 1. */
  first: number;
  need: number;
  motorola: boolean;
  /** Intel: bit of the first byte where the value starts. Motorola: bits above the MSB in the first byte. */
  skip: number;
  length: number;
  signed: boolean;
  float: 0 | 32 | 64;
  factor: number;
  offset: number;
  scale: Scale;
  values?: Map<string, string>;
  muxValue?: number;
}

interface CompiledMessage {
  signals: Compiled[];
  mux?: Compiled;
}

let compiledCache: WeakMap<DbcMessage, CompiledMessage> | undefined;
let indexCache: WeakMap<Dbc, { standard: Map<number, DbcMessage>; extended: Map<number, DbcMessage> }> | undefined;
let scratch: DataView | undefined;

function compileSignal(s: DbcSignal): Compiled {
  const motorola = s.byteOrder === "motorola";
  // Motorola: position of the MSB in the frame read as one big-endian bit string.
  const from = motorola ? (s.startBit >> 3) * 8 + 7 - (s.startBit & 7) : s.startBit;
  const lastBit = from + s.length - 1;
  const c: Compiled = {
    name: s.name,
    first: from >> 3,
    need: (lastBit >> 3) + 1,
    motorola,
    skip: from & 7,
    length: s.length,
    signed: s.signed,
    float: s.valueType === "float32" ? 32 : s.valueType === "float64" ? 64 : 0,
    factor: s.factor,
    offset: s.offset,
    scale: compileScale(s.factor, s.offset),
  };
  if (s.values) c.values = new Map(Object.entries(s.values));
  if (s.multiplexValue !== undefined) c.muxValue = s.multiplexValue;
  return c;
}

function compile(m: DbcMessage): CompiledMessage {
  const cache = compiledCache ??= new WeakMap();
  let cm = cache.get(m);
  if (cm) return cm;
  cm = { signals: [] };
  for (const s of m.signals) {
    const c = compileSignal(s);
    cm.signals.push(c);
    if (s.multiplexer) cm.mux = c;
  }
  cache.set(m, cm);
  return cm;
}

/** The raw bits of a signal of up to 53 bits, unsigned. */
function bitsNumber(data: Uint8Array, c: Compiled): number {
  let v = 0;
  let remaining = c.length;
  let byte = c.first;
  if (!c.motorola) {
    let shift = c.skip;
    let mul = 1;
    while (remaining > 0) {
      const avail = 8 - shift;
      const take = avail < remaining ? avail : remaining;
      v += ((data[byte]! >> shift) & ((1 << take) - 1)) * mul;
      mul *= 1 << take;
      remaining -= take;
      shift = 0;
      byte++;
    }
    return v;
  }
  let avail = 8 - c.skip;
  while (remaining > 0) {
    const take = avail < remaining ? avail : remaining;
    v = v * (1 << take) + ((data[byte]! & ((1 << avail) - 1)) >> (avail - take));
    remaining -= take;
    avail = 8;
    byte++;
  }
  return v;
}

/** The raw bits of any signal (up to 64 bits), unsigned. */
function bitsBig(data: Uint8Array, c: Compiled): bigint {
  let v = 0n;
  let remaining = c.length;
  let byte = c.first;
  if (!c.motorola) {
    let shift = c.skip;
    let at = 0n;
    while (remaining > 0) {
      const avail = 8 - shift;
      const take = avail < remaining ? avail : remaining;
      v |= BigInt((data[byte]! >> shift) & ((1 << take) - 1)) << at;
      at += BigInt(take);
      remaining -= take;
      shift = 0;
      byte++;
    }
    return v;
  }
  let avail = 8 - c.skip;
  while (remaining > 0) {
    const take = avail < remaining ? avail : remaining;
    v = (v << BigInt(take)) | BigInt((data[byte]! & ((1 << avail) - 1)) >> (avail - take));
    remaining -= take;
    avail = 8;
    byte++;
  }
  return v;
}

/** Raw value: a number for integers up to 53 bits, a bigint above; floats as their IEEE value. */
function rawValue(data: Uint8Array, c: Compiled): number | bigint {
  if (c.float === 32) {
    const dv = scratch ??= new DataView(new ArrayBuffer(8));
    dv.setUint32(0, bitsNumber(data, c));
    return dv.getFloat32(0);
  }
  if (c.float === 64) {
    const dv = scratch ??= new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, bitsBig(data, c));
    return dv.getFloat64(0);
  }
  if (c.length <= 53) {
    const v = bitsNumber(data, c);
    return c.signed && v >= 2 ** (c.length - 1) ? v - 2 ** c.length : v;
  }
  const v = bitsBig(data, c);
  return c.signed ? BigInt.asIntN(c.length, v) : v;
}

/**
 * Decodes the signals of `message` from a frame's `data`. Signals that need bytes beyond
 * `data.length` are listed in `missing` instead; multiplexed signals are decoded only when the
 * multiplexor's raw value equals their `mN`.
 *
 * @example
 * ```ts
 * const message = findDbcMessage(dbc, reading.canId);
 * if (message) console.log(decodeDbcMessage(message, reading.data).signals);
 * ```
 */
export function decodeDbcMessage(message: DbcMessage, data: Uint8Array, options: DecodeSignalsOptions = {}): DecodedSignals {
  if (!(data instanceof Uint8Array)) throw new ThingwireError("CODEC_INVALID", "the frame data must be a Uint8Array");
  const cm = compile(message);
  const out: DecodedSignals = { name: message.name, id: message.id, extended: message.extended, signals: {}, labels: {} };
  const raw: Record<string, bigint | number> | undefined = options.raw ? (out.raw = {}) : undefined;
  let missing: string[] | undefined;
  let muxRaw: number | bigint | undefined;
  if (cm.mux && data.length >= cm.mux.need) muxRaw = rawValue(data, cm.mux);
  for (const c of cm.signals) {
    if (c.muxValue !== undefined) {
      if (muxRaw === undefined) {
        (missing ??= []).push(c.name);
        continue;
      }
      // deno-lint-ignore eqeqeq
      if (muxRaw != c.muxValue) continue; // number or bigint against a number
    }
    if (data.length < c.need) {
      (missing ??= []).push(c.name);
      continue;
    }
    const v = rawValue(data, c);
    let phys: number;
    if (c.float) phys = (v as number) * c.factor + c.offset;
    else phys = typeof v === "number" ? c.scale.apply(v) : c.scale.applyBig(v);
    out.signals[c.name] = phys;
    if (raw) raw[c.name] = c.float ? v : BigInt(v);
    if (c.values && !c.float) {
      const label = c.values.get(String(v));
      if (label !== undefined) out.labels[c.name] = label;
    }
  }
  if (missing) out.missing = missing;
  return out;
}

/**
 * The DBC message for a CAN id, or `undefined`. An id with bit 31 set (the DBC and SocketCAN
 * convention) is looked up as an extended id; otherwise a standard message with that id is
 * preferred, then an extended one.
 *
 * @example
 * ```ts
 * findDbcMessage(dbc, 0x123)?.name; // "Engine"
 * findDbcMessage(dbc, 0x80000000 | 0x18fef100)?.extended; // true
 * ```
 */
export function findDbcMessage(dbc: Dbc, canId: number): DbcMessage | undefined {
  const cache = indexCache ??= new WeakMap();
  let index = cache.get(dbc);
  if (!index) {
    index = { standard: new Map(), extended: new Map() };
    for (const m of dbc.messages) (m.extended ? index.extended : index.standard).set(m.id, m);
    cache.set(dbc, index);
  }
  const id = canId < 0 && canId >= -0x80000000 ? canId >>> 0 : canId; // `0x80000000 | id` is a negative int32
  if (id >= 0x80000000) return index.extended.get(id - 0x80000000);
  return index.standard.get(id) ?? index.extended.get(id);
}

/**
 * Decodes a frame with the DBC: finds the message for `canId` ({@link findDbcMessage}) and
 * returns its physical signal values, value-table labels and (with `{ raw: true }`) raw values.
 * An id the DBC does not define throws `DBC_UNKNOWN_MESSAGE`.
 *
 * @example
 * ```ts
 * const dbc = parseDbc(dbcText);
 * const { name, signals, labels } = decodeSignals(dbc, reading.canId, reading.data);
 * ```
 */
export function decodeSignals(dbc: Dbc, canId: number, data: Uint8Array, options: DecodeSignalsOptions = {}): DecodedSignals {
  const message = findDbcMessage(dbc, canId);
  if (!message) {
    const id = canId < 0 && canId >= -0x80000000 ? canId >>> 0 : canId;
    throw new ThingwireError("DBC_UNKNOWN_MESSAGE", `the DBC defines no message with CAN id ${id} (0x${id.toString(16)})`);
  }
  return decodeDbcMessage(message, data, options);
}
