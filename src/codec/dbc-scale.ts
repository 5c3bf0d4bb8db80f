/**
 * raw × factor + offset, computed exactly and rounded once (internal). DBC factors are decimal
 * (0.1, 0.05, 1E-005); in doubles `3 * 0.1 + 0` is 0.30000000000000004, which no DBC author means.
 * Factor and offset are taken as the decimals their shortest representation shows, the sum is an
 * exact integer N over 10^K, and N / 10^K is one correctly rounded division while N fits in 53
 * bits (the usual case), or a BigInt and a correctly rounded string conversion otherwise.
 */

/** `x` (finite) as m × 10^e from its shortest round-trip representation. */
function decimal(x: number): { m: bigint; e: number } {
  const s = String(x);
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:e([-+][0-9]+))?$/.exec(s);
  if (!match) return { m: 0n, e: 0 };
  const frac = match[3] ?? "";
  const m = BigInt(`${match[1]}${match[2]}${frac}`);
  return { m, e: Number(match[4] ?? 0) - frac.length };
}

/** A compiled scale: `apply(raw)` is the physical value of an integer raw value. */
export interface Scale {
  apply(raw: number): number;
  applyBig(raw: bigint): number;
}

const LIMIT = 2 ** 53;

/** Compiles raw × factor + offset for finite `factor`, `offset`. */
export function compileScale(factor: number, offset: number): Scale {
  const f = decimal(factor);
  const o = decimal(offset);
  const k = Math.max(0, -f.e, -o.e);
  const a = f.m * 10n ** BigInt(f.e + k);
  const b = o.m * 10n ** BigInt(o.e + k);
  const slow = (raw: bigint): number => {
    const n = raw * a + b;
    return k === 0 ? Number(n) : Number(`${n}e-${k}`);
  };
  const an = Number(a);
  const bn = Number(b);
  const dn = 10 ** k;
  const fast = k <= 22 && Math.abs(an) < LIMIT && Math.abs(bn) < LIMIT;
  if (!fast) return { apply: (raw) => slow(BigInt(raw)), applyBig: slow };
  return {
    apply(raw: number): number {
      // Rounding is monotonic: a rounded |p| below 2^53 means the exact one is, so p is exact.
      const p = raw * an;
      if (p < LIMIT && p > -LIMIT) {
        const s = p + bn;
        if (s < LIMIT && s > -LIMIT) return k === 0 ? s : s / dn;
      }
      return slow(BigInt(raw));
    },
    applyBig: slow,
  };
}
