/**
 * The DBC tokenizer (internal). Tokens carry their 1-based line and column and whether they are
 * the first on their line (some DBC statements end at the end of a line, not at a `;`).
 */
import { ThingwireError } from "../errors.ts";

export interface Token {
  kind: "id" | "num" | "str" | "punct" | "eof";
  /** Source text; for strings the unescaped content. */
  text: string;
  line: number;
  col: number;
  /** First token on its line. */
  nl: boolean;
}

const NUMBER = /[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** Splits DBC text into tokens; an unterminated string throws `DBC_SYNTAX` with its position. */
export function lexDbc(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let nl = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      i++;
      line++;
      lineStart = i;
      nl = true;
      continue;
    }
    if (c <= 0x20 || c === 0xfeff) {
      i++;
      continue;
    }
    const col = i - lineStart + 1;
    const at = { line, col, nl };
    nl = false;
    if (c === 0x22) {
      const startLine = line;
      let s = "";
      let j = i + 1;
      let chunk = j;
      for (;;) {
        if (j >= n) {
          throw new ThingwireError("DBC_SYNTAX", `line ${startLine}, column ${col}: unterminated string`, { line: startLine, column: col });
        }
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c && j + 1 < n) {
          if (text.charCodeAt(j + 1) === 0x0a) {
            line++;
            lineStart = j + 2;
          }
          s += text.slice(chunk, j);
          chunk = j + 1;
          j += 2;
          continue;
        }
        if (d === 0x0a) {
          line++;
          lineStart = j + 1;
        }
        j++;
      }
      s += text.slice(chunk, j);
      tokens.push({ kind: "str", text: s, ...at });
      i = j + 1;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (isDigit(c) || ((c === 0x2d || c === 0x2b || c === 0x2e) && (isDigit(next) || (next === 0x2e && isDigit(text.charCodeAt(i + 2)))))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m) {
        tokens.push({ kind: "num", text: m[0], ...at });
        i += m[0].length;
        continue;
      }
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text);
    if (id) {
      tokens.push({ kind: "id", text: id[0], ...at });
      i += id[0].length;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    tokens.push({ kind: "punct", text: ch, ...at });
    i += ch.length;
  }
  tokens.push({ kind: "eof", text: "", line, col: i - lineStart + 1, nl: true });
  return tokens;
}
