#!/usr/bin/python3
"""Make test/fixtures/dbc/expected.json: random frames for every message of
test/fixtures/dbc/vehicle.dbc, decoded by canmatrix (Debian's python3-canmatrix),
for test/node/dbc-crosscheck.test.ts to compare thingwire's DBC decoder against.

Every value canmatrix returns is also recomputed by a small independent decoder in
this script (Python integers, int.from_bytes, struct, exact Decimal arithmetic), so a
canmatrix mistake cannot slip into the fixture unnoticed: the script stops on any
disagreement it does not know about. Known canmatrix differences are listed in the
output's "notes".

Run with the system Python (canmatrix is a Debian package):
    /usr/bin/python3 scripts/make-dbc-fixtures.py
The output is deterministic (fixed seed): re-running it must not change the file.
"""
import decimal
import json
import math
import os
import random
import struct
import sys

import canmatrix
import canmatrix.formats

# canmatrix computes physical values as Decimal(raw) * Decimal(factor) + Decimal(offset).
# With the default 28 significant digits a 64-bit raw value times a factor is rounded
# before the conversion to float; 1000 digits makes every product here exact, so the
# float is the correctly rounded exact result.
decimal.getcontext().prec = 1000

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DBC = os.path.join(ROOT, "test", "fixtures", "dbc", "vehicle.dbc")
OUT = os.path.join(ROOT, "test", "fixtures", "dbc", "expected.json")
SEED = 20261101
FRAMES_PER_MESSAGE = 64


def fmt_float(x):
    """A float as text that JavaScript's Number() reads back to the same double."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def dbc_signals(path):
    """Start bit, length, byte order, factor and offset text of every signal, read straight
    from the DBC lines (so the reference decoder does not depend on canmatrix's parser)."""
    texts = {}
    message = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts[:1] == ["BO_"]:
                message = parts[2].rstrip(":")
            elif parts[:1] == ["SG_"]:
                name = parts[1]
                layout = line[line.index(":") + 1:line.index("(")].strip()  # 20|13@0-
                start, rest = layout.split("|")
                length, order = rest.split("@")
                scale = line[line.index("(") + 1:line.index(")")]
                factor, offset = scale.split(",")
                texts[(message, name)] = {
                    "start": int(start), "length": int(length), "intel": order[0] == "1",
                    "factor": factor, "offset": offset,
                }
    return texts


def independent_raw(signal, layout, data):
    """Raw value by plain integer arithmetic from the DBC text's layout: the reference
    canmatrix is checked against."""
    size = len(data) * 8
    length = layout["length"]
    assert length == signal.size
    if layout["intel"]:
        # Intel: the start bit is the LSB; bit k is bit k % 8 of byte k // 8.
        bits = (int.from_bytes(data, "little") >> layout["start"]) & ((1 << length) - 1)
    else:
        # Motorola: the start bit is the MSB, numbered the same way; the signal continues
        # towards bit 0 of that byte, then bit 7 of the next byte. In the frame read as one
        # big-endian bit string the MSB sits at position msb.
        start = layout["start"]
        msb = (start // 8) * 8 + 7 - (start % 8)
        bits = (int.from_bytes(data, "big") >> (size - msb - length)) & ((1 << length) - 1)
    if signal.is_float:
        fmt = ">f" if signal.size == 32 else ">d"
        return struct.unpack(fmt, bits.to_bytes(signal.size // 8, "big"))[0]
    if signal.is_signed and bits >> (signal.size - 1):
        bits -= 1 << signal.size
    return bits


def same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def frames_for(frame, rng):
    size = frame.size
    yield bytes(size)
    yield bytes([0xFF] * size)
    yield bytes([0x55, 0xAA] * (size // 2))
    for _ in range(FRAMES_PER_MESSAGE):
        data = bytearray(rng.getrandbits(8) for _ in range(size))
        if frame.is_multiplexed:
            data[0] = (data[0] & 0xF0) | rng.choice([0, 0, 1, 1, 2, 2, 3, 15])
        floats = [s for s in frame.signals if s.is_float]
        if floats and rng.random() < 0.5:
            # Ordinary numbers too, not only the NaNs and extremes random bits give.
            for s in floats:
                value = rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-20, 20)
                fmt = ">f" if s.size == 32 else ">d"
                packed = int.from_bytes(struct.pack(fmt, value), "big")
                place(s, data, packed)
        yield bytes(data)


def place(signal, data, bits):
    """Writes raw bits into data (the inverse of independent_raw, for float test values)."""
    size = len(data) * 8
    mask = (1 << signal.size) - 1
    if signal.is_little_endian:
        v = int.from_bytes(data, "little")
        v = (v & ~(mask << signal.start_bit)) | (bits << signal.start_bit)
        data[:] = v.to_bytes(len(data), "little")
    else:
        shift = size - signal.start_bit - signal.size
        v = int.from_bytes(data, "big")
        v = (v & ~(mask << shift)) | (bits << shift)
        data[:] = v.to_bytes(len(data), "big")


def main():
    rng = random.Random(SEED)
    db = canmatrix.formats.loadp_flat(DBC)
    texts = dbc_signals(DBC)
    frames_out = []
    label_differences = 0
    checked = 0
    for frame in db.frames:
        can_id = frame.arbitration_id.id | (0x80000000 if frame.arbitration_id.extended else 0)
        for data in frames_for(frame, rng):
            decoded = frame.decode(data)
            mux_value = None
            for s in frame.signals:
                if s.is_multiplexer:
                    mux_value = independent_raw(s, texts[(frame.name, s.name)], data)
            expected_names = [s.name for s in frame.signals if s.mux_val is None or s.is_multiplexer or s.mux_val == mux_value]
            if sorted(decoded) != sorted(expected_names):
                sys.exit(f"canmatrix decoded signals {sorted(decoded)} of {frame.name}, expected {sorted(expected_names)}")
            signals = {}
            for s in frame.signals:
                if s.name not in decoded:
                    continue
                d = decoded[s.name]
                layout = texts[(frame.name, s.name)]
                ref = independent_raw(s, layout, data)
                factor, offset = layout["factor"], layout["offset"]
                if s.is_float:
                    if not same_float(d.raw_value, ref):
                        sys.exit(f"raw mismatch {frame.name}.{s.name} {data.hex()}: canmatrix {d.raw_value!r}, reference {ref!r}")
                    if math.isnan(ref) or math.isinf(ref):
                        exact = ref * float(factor) + float(offset)
                    else:
                        exact = float(decimal.Decimal(ref) * decimal.Decimal(factor) + decimal.Decimal(offset))
                    raw_text = fmt_float(ref)
                else:
                    if d.raw_value != ref:
                        sys.exit(f"raw mismatch {frame.name}.{s.name} {data.hex()}: canmatrix {d.raw_value}, reference {ref}")
                    exact = float(decimal.Decimal(ref) * decimal.Decimal(factor) + decimal.Decimal(offset))
                    raw_text = str(ref)
                phys = float(d.phys_value)
                if not same_float(phys, exact):
                    sys.exit(f"phys mismatch {frame.name}.{s.name} {data.hex()}: canmatrix {phys!r}, exact {exact!r}")
                entry = {"raw": raw_text, "phys": fmt_float(phys)}
                if not s.is_float and ref in s.values:
                    entry["label"] = s.values[ref]
                # canmatrix looks labels up by the physical value; the DBC (and thingwire) by the raw value.
                named = d.named_value
                cm_label = named if isinstance(named, str) else None
                if cm_label != entry.get("label"):
                    label_differences += 1
                signals[s.name] = entry
                checked += 1
            frames_out.append({"message": frame.name, "canId": can_id, "data": data.hex(), "signals": signals})
    out = {
        "generator": "scripts/make-dbc-fixtures.py",
        "reference": "canmatrix (Debian python3-canmatrix 0.9.5), checked value by value against an independent integer decoder in the generator",
        "dbc": "vehicle.dbc",
        "seed": SEED,
        "notes": [
            "canId: the DBC id, bit 31 set for extended ids (as in the DBC file).",
            "raw: the raw value as canmatrix returns it: a decimal integer (sign applied), or for float signals the IEEE value.",
            "phys: float(Decimal(raw) * Decimal(factor) + Decimal(offset)) as canmatrix computes it, with the Decimal context at 1000 digits so it is exact before the one rounding to a double; NaN/Infinity spelled for JavaScript's Number().",
            "label: the VAL_ label of the raw value. canmatrix's named_value matches VAL_ keys against the physical value instead, which differs when factor/offset are not 1/0 (CoolantTemp here): %d signal values had a different canmatrix named_value." % label_differences,
            "canmatrix 0.9.5 marks a signal as float for any SIG_VALTYPE_, even type 0 (integer); this DBC uses only types 1 and 2.",
            "Multiplexed signals are present only when the multiplexor's raw value equals their mN.",
        ],
        "signalValues": checked,
        "frames": frames_out,
    }
    frames_text = ",\n".join("  " + json.dumps(f, ensure_ascii=False) for f in frames_out)
    out["frames"] = "@FRAMES@"
    text = json.dumps(out, indent=1, ensure_ascii=False).replace('"@FRAMES@"', "[\n" + frames_text + "\n ]")
    json.loads(text)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"{len(frames_out)} frames, {checked} signal values, {label_differences} canmatrix label differences -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
