/** Byte concatenation (internal), shared by the gzip engines, the WebSocket write coalescing and the CLI's stdin. */

/** `parts` one after the other in a new buffer; a single part comes back as it is. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
