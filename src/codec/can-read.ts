/**
 * The binary CAN reader (internal; the public entry is `decodeCan` in can.ts). Every length is
 * checked against the bytes that remain before anything is read or allocated, so hostile input
 * costs at most one small object per 5 input bytes and ends in a `ThingwireError` with an offset.
 */
import { ThingwireError, type ThingwireErrorCode } from "../errors.ts";
import type { CanMessage, CanPoint, CanReading } from "./can.ts";
import { decodeUtf8 } from "./utf8.ts";

const MAX_HI = 0x1fffff; // high 32 bits of 2^53 - 1

function fail(code: ThingwireErrorCode, at: number, message: string, where: string): ThingwireError {
  return new ThingwireError(code, `${message} (at byte ${at}${where})`, { offset: at });
}

/**
 * Reads a plain binary CAN message from `b`. `where` is appended to offsets in messages (" of the
 * decompressed message"). `lengths` maps a dlc to its data length.
 */
export function readCanMessage(b: Uint8Array, where: string, lengths: readonly number[]): CanMessage {
  const n = b.length;
  if (n < 4) throw fail("CODEC_TRUNCATED", 0, `a CAN message starts with a 4-byte token length, only ${n} bytes here`, where);
  const tokenLength = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  if (tokenLength > n - 4) {
    throw fail("CODEC_TRUNCATED", 0, `the token length ${tokenLength} exceeds the ${n - 4} bytes that follow it`, where);
  }
  const token = tokenLength === 0 ? "" : decodeUtf8(b.subarray(4, 4 + tokenLength), 4, "the token", "CODEC_INVALID");
  const points: CanPoint[] = [];
  // Views are made on the buffer directly: faster than subarray(), and plain Uint8Arrays even
  // when the input is a subclass (a Node Buffer).
  const buffer = b.buffer;
  const base = b.byteOffset;
  let pos = 4 + tokenLength;
  while (pos < n) {
    const start = pos;
    if (n - pos < 12) {
      throw fail("CODEC_TRUNCATED", start, `a CAN point header needs 12 bytes, ${n - pos} remain`, where);
    }
    const lo = (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
    const hi = (b[pos + 4]! | (b[pos + 5]! << 8) | (b[pos + 6]! << 16) | (b[pos + 7]! << 24)) >>> 0;
    if (hi > MAX_HI) {
      throw fail("CODEC_TIMESTAMP_RANGE", start, "the point timestamp is above 2^53 - 1 ms and cannot be a JavaScript number exactly", where);
    }
    const count = b[pos + 8]! | (b[pos + 9]! << 8);
    const length = b[pos + 10]! | (b[pos + 11]! << 8);
    if (length < 12) {
      throw fail("CODEC_LENGTH_MISMATCH", start + 10, `a CAN point length includes its 12-byte header, this one says ${length}`, where);
    }
    const end = start + length;
    if (end > n) {
      throw fail("CODEC_TRUNCATED", start, `the CAN point declares ${length} bytes, only ${n - start} remain`, where);
    }
    pos += 12;
    const readings: CanReading[] = [];
    for (let r = 0; r < count; r++) {
      if (pos + 5 > end) throw overrun(start, length, r, count, where);
      const dlc = b[pos + 4]! & 31;
      const size = lengths[dlc];
      if (size === undefined) {
        throw fail("CODEC_BAD_DLC", pos + 4, `data length code ${dlc} is not a CAN FD code (0-15)`, where);
      }
      const data = pos + 5;
      if (data + size > end) throw overrun(start, length, r, count, where);
      readings.push({
        canId: (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0,
        bus: b[pos + 4]! >>> 5,
        dlc,
        data: new Uint8Array(buffer, base + data, size),
      });
      pos = data + size;
    }
    if (pos !== end) {
      throw fail(
        "CODEC_LENGTH_MISMATCH",
        start + 10,
        `the CAN point says ${length} bytes, its ${count} readings add up to ${pos - start}`,
        where,
      );
    }
    points.push({ timestamp: hi * 4294967296 + lo, readings });
  }
  return { token, points };
}

function overrun(start: number, length: number, r: number, count: number, where: string): ThingwireError {
  return fail(
    "CODEC_LENGTH_MISMATCH",
    start + 10,
    `reading ${r + 1} of ${count} runs past the ${length}-byte length of the CAN point at byte ${start}`,
    where,
  );
}
