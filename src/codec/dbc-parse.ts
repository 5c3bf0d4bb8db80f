/**
 * The DBC parser (internal file; `parseDbc` is public through dbc.ts). Reads the statements that
 * matter for decoding (`VERSION`, `BU_`, `BO_`, `SG_`, `SIG_VALTYPE_`, `VAL_`, `CM_`) and skips
 * the rest statement by statement; an unknown keyword is a syntax error, not something to guess at.
 */
import { ThingwireError } from "../errors.ts";
import { lexDbc, type Token } from "./dbc-lex.ts";
import type { Dbc, DbcMessage, DbcSignal } from "./dbc-types.ts";

/** Statements that end with `;` and carry nothing the decoder needs. */
const SKIPPED = new Set([
  "BA_DEF_", "BA_DEF_DEF_", "BA_", "BA_DEF_REL_", "BA_REL_", "BA_DEF_DEF_REL_", "BA_DEF_SGTYPE_", "BA_SGTYPE_",
  "BO_TX_BU_", "EV_", "ENVVAR_DATA_", "SGTYPE_", "SGTYPE_VAL_", "SIG_TYPE_REF_", "SIG_GROUP_", "SG_MUL_VAL_",
  "VAL_TABLE_", "CAT_DEF_", "CAT_", "FILTER", "EV_DATA_", "NS_DESC_", "BU_SG_REL_", "BU_EV_REL_", "BU_BO_REL_",
]);
const INDEPENDENT = "VECTOR__INDEPENDENT_SIG_MSG";

function describe(t: Token): string {
  if (t.kind === "eof") return "the end of the file";
  if (t.kind === "str") return "a string";
  return `"${t.text.length > 40 ? t.text.slice(0, 40) + "…" : t.text}"`;
}

class Parser {
  private i = 0;
  /** Messages by their DBC id (bit 31 set for extended), for statements that refer to them. */
  readonly byDbcId = new Map<number, DbcMessage>();
  private readonly seen = new Map<string, number>();
  readonly messages: DbcMessage[] = [];
  readonly nodes: string[] = [];
  version = "";

  private readonly toks: Token[];

  constructor(toks: Token[]) {
    this.toks = toks;
  }

  peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.i++;
    return t;
  }
  syntax(t: Token, message: string): ThingwireError {
    return new ThingwireError("DBC_SYNTAX", `line ${t.line}, column ${t.col}: ${message}`, { line: t.line, column: t.col });
  }
  invalid(t: Token, message: string): ThingwireError {
    return new ThingwireError("DBC_INVALID", `line ${t.line}, column ${t.col}: ${message}`, { line: t.line, column: t.col });
  }
  punct(ch: string, what: string): Token {
    const t = this.next();
    if (t.kind !== "punct" || t.text !== ch) throw this.syntax(t, `expected '${ch}' ${what}, found ${describe(t)}`);
    return t;
  }
  isPunct(ch: string): boolean {
    const t = this.peek();
    return t.kind === "punct" && t.text === ch;
  }
  ident(what: string): Token {
    const t = this.next();
    if (t.kind !== "id") throw this.syntax(t, `expected ${what}, found ${describe(t)}`);
    return t;
  }
  str(what: string): string {
    const t = this.next();
    if (t.kind !== "str") throw this.syntax(t, `expected ${what} (a double-quoted string), found ${describe(t)}`);
    return t.text;
  }
  number(what: string): number {
    const t = this.next();
    if (t.kind !== "num") throw this.syntax(t, `expected ${what} (a number), found ${describe(t)}`);
    return Number(t.text);
  }
  int(what: string, max: number): { value: number; tok: Token } {
    const tok = this.next();
    if (tok.kind !== "num" || !/^\+?[0-9]+$/.test(tok.text)) throw this.syntax(tok, `expected ${what} (a whole number), found ${describe(tok)}`);
    const value = Number(tok.text);
    if (value > max) throw this.invalid(tok, `${what} ${tok.text} is above ${max}`);
    return { value, tok };
  }
  semicolon(start: Token): void {
    const t = this.next();
    if (t.kind !== "punct" || t.text !== ";") throw this.syntax(t, `expected ';' to end the ${start.text} statement, found ${describe(t)}`);
  }
  skipStatement(start: Token): void {
    for (;;) {
      const t = this.next();
      if (t.kind === "eof") throw this.syntax(start, `the ${start.text} statement has no closing ';'`);
      if (t.kind === "punct" && t.text === ";") return;
    }
  }
  restOfLine(): Token[] {
    const out: Token[] = [];
    while (!this.peek().nl) out.push(this.next());
    return out;
  }

  file(): Dbc {
    let current: DbcMessage | undefined;
    while (this.peek().kind !== "eof") {
      const t = this.next();
      if (t.kind !== "id") throw this.syntax(t, `expected a keyword such as BO_ or SG_ at the start of a statement, found ${describe(t)}`);
      if (t.text === "SG_") {
        if (!current) throw this.syntax(t, "SG_ outside a message: a signal follows its BO_ line");
        this.signal(current);
        continue;
      }
      current = undefined;
      switch (t.text) {
        case "VERSION":
          this.version = this.str("the version");
          break;
        case "NS_":
          this.punct(":", "after NS_");
          while (this.peek().kind === "id" && (!this.peek().nl || this.peek().col > 1) && !(this.peek(1).kind === "punct" && this.peek(1).text === ":")) {
            this.next();
          }
          break;
        case "BS_":
          this.punct(":", "after BS_");
          this.restOfLine();
          break;
        case "BU_":
          this.punct(":", "after BU_");
          for (const n of this.restOfLine()) {
            if (n.kind !== "id") throw this.syntax(n, `expected a node name, found ${describe(n)}`);
            this.nodes.push(n.text);
          }
          break;
        case "BO_":
          current = this.message();
          break;
        case "CM_":
          this.comment(t);
          break;
        case "VAL_":
          this.valueTable(t);
          break;
        case "SIG_VALTYPE_":
          this.valueType(t);
          break;
        default:
          if (!SKIPPED.has(t.text)) throw this.syntax(t, `unknown keyword ${describe(t)}`);
          this.skipStatement(t);
      }
    }
    return { version: this.version, nodes: this.nodes, messages: this.messages };
  }

  message(): DbcMessage {
    const { value: dbcId, tok: idTok } = this.int("message id", 0xffffffff);
    const name = this.ident("the message name").text;
    this.punct(":", "after the message name");
    const size = this.int("message size", 64).value;
    const transmitter = this.peek().kind === "id" && !this.peek().nl ? this.next().text : "";
    const extended = dbcId >= 0x80000000;
    const id = extended ? dbcId - 0x80000000 : dbcId;
    const message: DbcMessage = { id, extended, name, size, transmitter, signals: [], line: idTok.line };
    if (name === INDEPENDENT) return message; // holds signals of no message: parsed, not listed
    if (extended && id > 0x1fffffff) throw this.invalid(idTok, `extended message id ${dbcId} has bits 29-30 set`);
    const key = `${extended ? "x" : "s"}${id}`;
    const before = this.seen.get(key);
    if (before !== undefined) throw this.invalid(idTok, `message id ${dbcId} is already used by the message on line ${before}`);
    this.seen.set(key, idTok.line);
    this.byDbcId.set(dbcId, message);
    this.messages.push(message);
    return message;
  }

  signal(message: DbcMessage): void {
    const nameTok = this.ident("the signal name");
    let multiplexer = false;
    let multiplexValue: number | undefined;
    if (this.peek().kind === "id") {
      const mux = this.next();
      const m = /^m([0-9]+)(M?)$/.exec(mux.text);
      if (mux.text === "M") multiplexer = true;
      else if (m) {
        if (m[2]) throw this.invalid(mux, `extended multiplexing (${mux.text}) is not supported; only M and mN`);
        multiplexValue = Number(m[1]);
      } else throw this.syntax(mux, `expected ':' or a multiplex indicator (M, mN) after the signal name, found ${describe(mux)}`);
    }
    this.punct(":", "after the signal name");
    const start = this.int("start bit", 511);
    this.punct("|", "between start bit and length");
    const length = this.int("signal length", 64);
    if (length.value === 0) throw this.invalid(length.tok, "a signal length is 1 to 64 bits");
    this.punct("@", "before the byte order");
    const order = this.next();
    if (order.kind !== "num" || (order.text !== "0" && order.text !== "1")) {
      throw this.syntax(order, `expected byte order 0 (Motorola) or 1 (Intel) after '@', found ${describe(order)}`);
    }
    const sign = this.next();
    if (sign.kind !== "punct" || (sign.text !== "+" && sign.text !== "-")) {
      throw this.syntax(sign, `expected '+' (unsigned) or '-' (signed) after the byte order, found ${describe(sign)}`);
    }
    this.punct("(", "before factor and offset");
    const factorTok = this.peek();
    const factor = this.number("the factor");
    this.punct(",", "between factor and offset");
    const offset = this.number("the offset");
    this.punct(")", "after factor and offset");
    if (!Number.isFinite(factor) || !Number.isFinite(offset)) throw this.invalid(factorTok, "factor and offset must be finite numbers");
    this.punct("[", "before minimum and maximum");
    const min = this.number("the minimum");
    this.punct("|", "between minimum and maximum");
    const max = this.number("the maximum");
    this.punct("]", "after minimum and maximum");
    const unit = this.str("the unit");
    const receivers: string[] = [];
    for (const r of this.restOfLine()) {
      if (r.kind === "id") receivers.push(r.text);
      else if (!(r.kind === "punct" && r.text === ",")) throw this.syntax(r, `expected a receiving node, found ${describe(r)}`);
    }
    const byteOrder = order.text === "1" ? "intel" : "motorola";
    const s = start.value;
    const end = byteOrder === "intel" ? s + length.value : (s >> 3) * 8 + 7 - (s & 7) + length.value;
    if (end > 512) throw this.invalid(start.tok, `signal ${nameTok.text} runs past the 64-byte end of a CAN FD frame`);
    if (message.signals.some((x) => x.name === nameTok.text)) {
      throw this.invalid(nameTok, `signal ${nameTok.text} is already defined in message ${message.name}`);
    }
    if (multiplexer && message.signals.some((x) => x.multiplexer)) {
      throw this.invalid(nameTok, `message ${message.name} has a second multiplexor (M); only simple multiplexing is supported`);
    }
    const signal: DbcSignal = {
      name: nameTok.text,
      startBit: s,
      length: length.value,
      byteOrder,
      signed: sign.text === "-",
      valueType: "integer",
      factor,
      offset,
      min,
      max,
      unit,
      receivers,
      multiplexer,
      line: nameTok.line,
    };
    if (multiplexValue !== undefined) signal.multiplexValue = multiplexValue;
    message.signals.push(signal);
  }

  find(idTok: Token, name?: string): { message?: DbcMessage; signal?: DbcSignal } {
    const message = this.byDbcId.get(Number(idTok.text));
    if (!message || name === undefined) return message ? { message } : {};
    const signal = message.signals.find((s) => s.name === name);
    return signal ? { message, signal } : { message };
  }

  comment(start: Token): void {
    const t = this.next();
    if (t.kind === "str") return this.semicolon(start);
    if (t.kind !== "id") throw this.syntax(t, `expected BU_, BO_, SG_, EV_ or a string after CM_, found ${describe(t)}`);
    if (t.text === "BO_") {
      const idTok = this.peek();
      this.int("message id", 0xffffffff);
      const text = this.str("the comment");
      const { message } = this.find(idTok);
      if (message) message.comment = text;
    } else if (t.text === "SG_") {
      const idTok = this.peek();
      this.int("message id", 0xffffffff);
      const name = this.ident("the signal name").text;
      const text = this.str("the comment");
      const { signal } = this.find(idTok, name);
      if (signal) signal.comment = text;
    } else if (t.text === "BU_" || t.text === "EV_") {
      this.ident("a name");
      this.str("the comment");
    } else throw this.syntax(t, `expected BU_, BO_, SG_, EV_ or a string after CM_, found ${describe(t)}`);
    this.semicolon(start);
  }

  valueTable(start: Token): void {
    const first = this.peek();
    if (first.kind === "id") return this.skipStatement(start); // an environment variable's table
    this.int("message id", 0xffffffff);
    const name = this.ident("the signal name").text;
    const values: Record<string, string> = {};
    while (this.peek().kind === "num") {
      const v = this.next();
      const n = Number(v.text);
      if (!Number.isInteger(n)) throw this.syntax(v, `expected a whole raw value, found ${describe(v)}`);
      const key = /^[-+]?[0-9]+$/.test(v.text) ? BigInt(v.text).toString() : String(n);
      values[key] = this.str("the value's label");
    }
    this.semicolon(start);
    const { signal } = this.find(first, name);
    if (signal) signal.values = values;
  }

  valueType(start: Token): void {
    const idTok = this.peek();
    this.int("message id", 0xffffffff);
    const nameTok = this.ident("the signal name");
    if (this.isPunct(":")) this.next();
    const type = this.int("the value type (0 integer, 1 float, 2 double)", 2);
    this.semicolon(start);
    const { message, signal } = this.find(idTok, nameTok.text);
    if (!message || !signal) {
      if (message?.name === INDEPENDENT) return;
      throw this.invalid(nameTok, `SIG_VALTYPE_ names ${nameTok.text} of message ${idTok.text}, which the file does not define`);
    }
    if (type.value === 0) return;
    const bits = type.value === 1 ? 32 : 64;
    if (signal.length !== bits) {
      throw this.invalid(type.tok, `signal ${signal.name} is ${signal.length} bits, a ${type.value === 1 ? "float" : "double"} takes ${bits}`);
    }
    signal.valueType = type.value === 1 ? "float32" : "float64";
  }

  checkMultiplexing(): void {
    for (const m of this.messages) {
      const muxed = m.signals.find((s) => s.multiplexValue !== undefined);
      if (muxed && !m.signals.some((s) => s.multiplexer)) {
        const t: Token = { kind: "id", text: muxed.name, line: muxed.line, col: 1, nl: true };
        throw this.invalid(t, `signal ${muxed.name} is multiplexed (m${muxed.multiplexValue}) but message ${m.name} has no multiplexor (M)`);
      }
    }
  }
}

/**
 * Parses DBC text into messages and signals: Intel and Motorola byte order (a Motorola start bit
 * is the signal's most significant bit, as in the DBC format), signed and unsigned integers,
 * `SIG_VALTYPE_` floats and doubles, factor/offset, min/max, units, `VAL_` value tables, `CM_`
 * comments, simple multiplexing (`M` / `mN`), extended ids (bit 31 of the DBC id) and CAN FD
 * sizes up to 64 bytes. Errors: `DBC_SYNTAX` or `DBC_INVALID` with `line` and `column`.
 *
 * @example
 * ```ts
 * const dbc = parseDbc(`
 * BO_ 291 Engine: 8 ECU
 *  SG_ EngineSpeed : 0|16@1+ (0.25,0) [0|16383.75] "rpm" Vector__XXX
 * `);
 * dbc.messages[0].signals[0].factor; // 0.25
 * ```
 */
export function parseDbc(text: string): Dbc {
  if (typeof text !== "string") {
    throw new ThingwireError("DBC_SYNTAX", "line 1, column 1: parseDbc expects the DBC file's text as a string", { line: 1, column: 1 });
  }
  const parser = new Parser(lexDbc(text));
  const dbc = parser.file();
  parser.checkMultiplexing();
  return dbc;
}
