/**
 * The DBC data model (internal file; the types are public through dbc.ts).
 */

/**
 * One signal of a DBC message (an `SG_` line, with what `SIG_VALTYPE_`, `VAL_` and `CM_` add).
 *
 * @example
 * ```ts
 * const rpm = parseDbc(text).messages[0].signals.find((s) => s.name === "EngineSpeed");
 * rpm?.byteOrder; // "intel"
 * ```
 */
export interface DbcSignal {
  name: string;
  /**
   * The start bit as written in the DBC: for Intel the least significant bit, for Motorola the
   * most significant bit (bit k is bit k % 8 of byte k / 8).
   */
  startBit: number;
  /** Length in bits, 1 … 64. */
  length: number;
  /** `@1` Intel (little-endian) or `@0` Motorola (big-endian). */
  byteOrder: "intel" | "motorola";
  /** `-` signed (two's complement) or `+` unsigned; ignored for floats. */
  signed: boolean;
  /** `integer`, or IEEE `float32` / `float64` from `SIG_VALTYPE_` 1 / 2. */
  valueType: "integer" | "float32" | "float64";
  factor: number;
  offset: number;
  min: number;
  max: number;
  unit: string;
  receivers: string[];
  /** True for the multiplexor switch (`M`). */
  multiplexer: boolean;
  /** For a multiplexed signal (`mN`): the switch value N it is present for. */
  multiplexValue?: number;
  /** Value table from `VAL_`: raw value (decimal string) → label. */
  values?: Record<string, string>;
  comment?: string;
  /** Line of the `SG_` in the DBC text. */
  line: number;
}

/**
 * One DBC message (a `BO_` line and its signals).
 *
 * @example
 * ```ts
 * const m = parseDbc(text).messages[0];
 * `${m.name} 0x${m.id.toString(16)} ${m.extended ? "extended" : "standard"} ${m.size} bytes`;
 * ```
 */
export interface DbcMessage {
  /** The CAN id: 11-bit, or 29-bit when `extended` (the DBC sets bit 31 for those; removed here). */
  id: number;
  extended: boolean;
  name: string;
  /** Payload size in bytes, 0 … 64 (CAN FD sizes above 8). */
  size: number;
  /** Transmitting node (`Vector__XXX` for none). */
  transmitter: string;
  signals: DbcSignal[];
  comment?: string;
  /** Line of the `BO_` in the DBC text. */
  line: number;
}

/**
 * A parsed DBC file.
 *
 * @example
 * ```ts
 * const dbc: Dbc = parseDbc(text);
 * dbc.messages.map((m) => m.name);
 * ```
 */
export interface Dbc {
  version: string;
  /** Nodes from `BU_`. */
  nodes: string[];
  messages: DbcMessage[];
}

/**
 * Signal values of one frame, from {@link decodeSignals} or {@link decodeDbcMessage}.
 *
 * @example
 * ```ts
 * const d: DecodedSignals = decodeSignals(dbc, 0x123, data);
 * d.signals.EngineSpeed; // 1250.5
 * d.labels.GearPosition; // "Drive"
 * ```
 */
export interface DecodedSignals {
  /** Message name. */
  name: string;
  id: number;
  extended: boolean;
  /**
   * Physical values by signal name: raw × factor + offset. For integer signals this is the
   * exact decimal result rounded once to the nearest double. Multiplexed signals whose switch
   * value does not match are left out.
   */
  signals: Record<string, number>;
  /** Value-table (`VAL_`) labels by signal name, for signals whose raw value has one. */
  labels: Record<string, string>;
  /**
   * With `{ raw: true }`: raw values by signal name, `bigint` for integer signals (sign applied),
   * the IEEE value as a number for float signals.
   */
  raw?: Record<string, bigint | number>;
  /** Signals left out because the data is shorter than they need. Absent when none were. */
  missing?: string[];
}

/**
 * Options of {@link decodeSignals} and {@link decodeDbcMessage}.
 *
 * @example
 * ```ts
 * decodeSignals(dbc, canId, data, { raw: true }).raw;
 * ```
 */
export interface DecodeSignalsOptions {
  /** Also return the raw values. Default false. */
  raw?: boolean;
}
