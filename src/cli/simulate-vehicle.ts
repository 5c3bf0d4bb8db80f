/**
 * The simulated truck behind `thingwire simulate`: a small physical model (drive cycle, gears, engine,
 * coolant, battery, fuel, doors, tyres) stepped in fixed time steps, and a packer that writes its values
 * into CAN frames through the layout a DBC file gives (Intel and Motorola byte order, signed, IEEE float,
 * multiplexed signals, CAN FD lengths). Deterministic for a given seed, so tests can reproduce a run.
 */
import { ThingwireError } from "../errors.ts";

/** One signal's layout, as the packer needs it (built from the parsed DBC). */
export interface PackSignal {
  name: string;
  startBit: number;
  length: number;
  /** "intel" = little endian (@1), "motorola" = big endian (@0, start bit is the most significant bit). */
  byteOrder: "intel" | "motorola";
  signed: boolean;
  factor: number;
  offset: number;
  /** IEEE float (32 bits) or double (64 bits) per SIG_VALTYPE_. */
  float: boolean;
  /** The multiplexor signal of its message. */
  isMultiplexor: boolean;
  /** The multiplexor value this signal belongs to, when it is multiplexed. */
  muxValue?: number;
}

/** One message's layout. */
export interface PackMessage {
  name: string;
  /** CAN id as it goes on the wire (extended ids without the DBC's bit 31). */
  canId: number;
  extended: boolean;
  /** Payload length in bytes (0..64). */
  size: number;
  signals: PackSignal[];
}

/** Writes `raw` (an unsigned bit pattern of `sig.length` bits) into `data` at the signal's position. */
function writeBits(data: Uint8Array, sig: PackSignal, raw: bigint): void {
  const n = sig.length;
  if (sig.byteOrder === "intel") {
    for (let i = 0; i < n; i++) {
      const pos = sig.startBit + i;
      const byte = pos >> 3;
      if (byte >= data.length) return;
      const bit = pos & 7;
      if ((raw >> BigInt(i)) & 1n) data[byte]! |= 1 << bit;
      else data[byte]! &= ~(1 << bit);
    }
    return;
  }
  // Motorola: start at the most significant bit, walk towards bit 0 of a byte, then to bit 7 of the next.
  let pos = sig.startBit;
  for (let i = n - 1; i >= 0; i--) {
    const byte = pos >> 3;
    if (byte >= data.length) return;
    const bit = pos & 7;
    if ((raw >> BigInt(i)) & 1n) data[byte]! |= 1 << bit;
    else data[byte]! &= ~(1 << bit);
    pos = bit === 0 ? pos + 15 : pos - 1;
  }
}

/** The raw bit pattern of a physical value: scaled, rounded, clamped to the signal's range. */
export function rawBits(sig: PackSignal, physical: number): bigint {
  if (sig.float) {
    const view = new DataView(new ArrayBuffer(8));
    if (sig.length === 64) {
      view.setFloat64(0, physical);
      return view.getBigUint64(0);
    }
    view.setFloat32(0, physical);
    return BigInt(view.getUint32(0));
  }
  const scaled = Math.round((physical - sig.offset) / (sig.factor || 1));
  const n = BigInt(sig.length);
  let v = BigInt(Number.isFinite(scaled) ? scaled : 0);
  const lo = sig.signed ? -(1n << (n - 1n)) : 0n;
  const hi = sig.signed ? (1n << (n - 1n)) - 1n : (1n << n) - 1n;
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return v < 0n ? (1n << n) + v : v;
}

/**
 * Packs the physical `values` into a frame of `msg.size` bytes. A multiplexed message carries the
 * signals of the multiplexor value found in `values` only. Missing values are written as 0.
 */
export function packFrame(msg: PackMessage, values: Readonly<Record<string, number>>): Uint8Array {
  const data = new Uint8Array(msg.size);
  const mux = msg.signals.find((s) => s.isMultiplexor);
  const muxValue = mux ? values[mux.name] ?? 0 : undefined;
  for (const sig of msg.signals) {
    if (sig.muxValue !== undefined && sig.muxValue !== muxValue) continue;
    writeBits(data, sig, rawBits(sig, values[sig.name] ?? 0));
  }
  return data;
}

/** A small seeded PRNG (mulberry32), so a run can be reproduced. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const approach = (v: number, target: number, rate: number, dt: number) => v + (target - v) * Math.min(1, rate * dt);

/** Gear ratios × final drive of a 6-speed truck gearbox, and the wheel circumference (m). */
const GEARS = [0, 14.9, 9.1, 5.7, 3.7, 2.6, 2.0];
const WHEEL_M = 3.2;
const IDLE_RPM = 650;

type Phase = "parked" | "accelerating" | "cruising" | "slowing" | "stopped";

/** The truck: call `step(dt)` then read `signals()`; `command()` applies an operator command. */
export class Truck {
  private rnd: () => number;
  private phase: Phase = "parked";
  private phaseLeft = 4;
  private target = 0;
  t = 0;
  speed = 0; // km/h
  gear = 0;
  rpm = IDLE_RPM;
  throttle = 0;
  load = 10;
  coolant = 22;
  transOil = 20;
  oil = 180;
  battery = 25.2;
  alternator = 0;
  odometer = 184_302.4;
  brake = false;
  doorDriver = 1;
  doorPassenger = 0;
  cargoDoor = 0;
  locked = 0;
  headlights = 1;
  parkingBrake = 1;
  cruise = 0;
  fuel = 72;
  ambient = 14.5;
  cabin = 17;
  humidity = 48;
  tyres = [830, 826, 818, 822];
  tyreIndex = 0;
  speedLimit = 88;
  horn = 0;

  constructor(seed = 1) {
    this.rnd = seededRandom(seed);
  }

  private noise(scale: number): number {
    return (this.rnd() - 0.5) * 2 * scale;
  }

  private nextPhase(): void {
    const r = this.rnd();
    switch (this.phase) {
      case "parked":
      case "stopped":
        this.phase = "accelerating";
        this.target = Math.min(this.speedLimit, r < 0.3 ? 45 + r * 40 : 70 + r * 20);
        this.phaseLeft = 20;
        this.doorDriver = 0;
        this.doorPassenger = 0;
        this.cargoDoor = 0;
        this.parkingBrake = 0;
        break;
      case "accelerating":
        this.phase = "cruising";
        this.phaseLeft = 15 + r * 25;
        break;
      case "cruising":
        if (r < 0.45) {
          this.phase = "slowing";
          this.target = 0;
          this.phaseLeft = 20;
        } else {
          this.phase = "accelerating";
          this.target = Math.min(this.speedLimit, 40 + r * 50);
          this.phaseLeft = 12;
        }
        break;
      case "slowing":
        this.phase = "stopped";
        this.phaseLeft = 6 + r * 10;
        if (r < 0.5) this.doorDriver = 1;
        if (r < 0.2) this.cargoDoor = 1;
        this.parkingBrake = r < 0.6 ? 1 : 0;
        break;
    }
  }

  /** Advances the model by `dt` seconds. */
  step(dt: number): void {
    this.t += dt;
    this.phaseLeft -= dt;
    if (this.phaseLeft <= 0 || (this.phase === "slowing" && this.speed < 0.5)) this.nextPhase();

    // speed follows the drive cycle with a truck's sluggishness
    const target = this.phase === "parked" || this.phase === "stopped" ? 0 : Math.min(this.target, this.speedLimit);
    const accel = clamp((target - this.speed) * 0.25, -2.2, 1.1) * 3.6; // km/h per s
    this.speed = clamp(this.speed + accel * dt + (this.speed > 5 ? this.noise(0.15) : 0), 0, 130);
    if (this.speed < 0.05) this.speed = 0;
    this.brake = accel < -1.5;
    this.throttle = clamp(accel > 0 ? 25 + accel * 12 + this.noise(2) : this.speed > 5 ? 12 + this.noise(2) : 0, 0, 100);
    this.cruise = this.phase === "cruising" && this.speed > 60 ? 1 : 0;

    // gear and engine speed
    if (this.speed < 1) this.gear = 0;
    else {
      const wheelRps = this.speed / 3.6 / WHEEL_M;
      let g = Math.max(1, this.gear);
      while (g < 6 && wheelRps * 60 * GEARS[g]! > 1700) g++;
      while (g > 1 && wheelRps * 60 * GEARS[g]! < 1000) g--;
      this.gear = g;
    }
    const wheelRpm = (this.speed / 3.6 / WHEEL_M) * 60;
    const engineTarget = this.gear === 0 ? IDLE_RPM : Math.max(IDLE_RPM, wheelRpm * GEARS[this.gear]!);
    this.rpm = clamp(approach(this.rpm, engineTarget, 4, dt) + this.noise(6), 550, 2500);
    this.load = clamp(15 + this.throttle * 0.8 + this.noise(1.5), 0, 125);

    // temperatures, pressures, electrics
    const coolantTarget = 86 + this.load * 0.06;
    this.coolant = approach(this.coolant, coolantTarget, 0.02, dt) + this.noise(0.05);
    this.transOil = approach(this.transOil, 70 + this.load * 0.1, 0.01, dt);
    this.oil = clamp(120 + this.rpm * 0.18 + this.noise(4), 0, 1000);
    this.alternator = clamp(this.rpm > 600 ? 18 + this.noise(3) + (this.headlights ? 9 : 0) : -6, -200, 200);
    this.battery = clamp(approach(this.battery, this.rpm > 600 ? 27.6 : 25.0, 0.3, dt) + this.noise(0.02), 18, 32);
    this.odometer += (this.speed / 3600) * dt;
    this.fuel = clamp(this.fuel - (0.0006 + this.load * 0.000015) * dt, 0, 100);
    this.ambient = clamp(this.ambient + this.noise(0.01), -40, 60);
    this.cabin = approach(this.cabin, 21.5, 0.005, dt) + this.noise(0.01);
    this.humidity = clamp(this.humidity + this.noise(0.1), 10, 95);
    this.tyres = this.tyres.map((p) => clamp(approach(p, 840 + this.speed * 0.15, 0.01, dt) + this.noise(0.3), 500, 1000));
    this.tyreIndex = (this.tyreIndex + 1) % 4;
    if (this.horn > 0) this.horn -= dt;
  }

  /** The current values by DBC signal name. */
  signals(): Record<string, number> {
    const tyreNames = ["TireFrontLeft", "TireFrontRight", "TireRearLeft", "TireRearRight"];
    return {
      EngineSpeed: this.rpm,
      CoolantTemp: this.coolant,
      ThrottlePosition: this.throttle,
      OilPressure: this.oil,
      EngineLoad: this.load,
      VehicleSpeed: this.speed,
      Odometer: this.odometer,
      BrakePressed: this.brake ? 1 : 0,
      Gear: this.gear,
      TransOilTemp: this.transOil,
      BatteryVoltage: this.battery,
      AlternatorCurrent: this.alternator,
      DoorDriver: this.doorDriver,
      DoorPassenger: this.doorPassenger,
      CargoDoor: this.cargoDoor,
      DoorsLocked: this.locked,
      Headlights: this.headlights,
      ParkingBrake: this.parkingBrake,
      CruiseControl: this.cruise,
      FuelLevel: this.fuel,
      AmbientTemp: this.ambient,
      CabinTemp: this.cabin,
      Humidity: this.humidity,
      TireIndex: this.tyreIndex,
      [tyreNames[this.tyreIndex]!]: this.tyres[this.tyreIndex]!,
    };
  }

  /** JSON telemetry fields (what a telematics box adds next to the CAN bus). */
  telemetryFields(): Array<{ name: string; value: number | string }> {
    const heading = (this.t * 2) % 360;
    return [
      { name: "lat", value: Math.round((52.3702 + Math.sin(this.t / 600) * 0.05) * 1e6) / 1e6 },
      { name: "lon", value: Math.round((4.8952 + Math.cos(this.t / 600) * 0.08) * 1e6) / 1e6 },
      { name: "heading", value: Math.round(heading) },
      { name: "gps_speed", value: Math.round(this.speed * 10) / 10 },
      { name: "trip_state", value: this.phase },
      { name: "driver", value: "D. Jansen" },
      { name: "speed_limit", value: this.speedLimit },
    ];
  }

  /**
   * Applies an operator command; returns what happened (sent back in the acknowledgement), or throws
   * `OPTIONS_INVALID` with the reason it cannot be applied.
   */
  command(name: string, value: string | undefined): string {
    switch (name) {
      case "lock":
        if (this.speed < 1 && (this.doorDriver || this.doorPassenger || this.cargoDoor)) {
          this.doorDriver = this.doorPassenger = this.cargoDoor = 0;
        }
        this.locked = 1;
        return "doors locked";
      case "unlock":
        this.locked = 0;
        return "doors unlocked";
      case "horn":
        this.horn = 1;
        return "horn sounded";
      case "headlights": {
        const v = (value ?? "").toLowerCase();
        const level = v === "off" || v === "0" ? 0 : v === "high" || v === "2" ? 2 : 1;
        this.headlights = level;
        return `headlights ${["off", "low", "high"][level]}`;
      }
      case "speed-limit": {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 10 || n > 130) throw new ThingwireError("OPTIONS_INVALID", "speed-limit needs a value between 10 and 130 km/h");
        this.speedLimit = n;
        return `speed limited to ${n} km/h`;
      }
      case "message":
        return `shown to the driver: ${(value ?? "").slice(0, 80)}`;
      case "ping":
        return "pong";
      default:
        throw new ThingwireError("OPTIONS_INVALID", `unknown command "${name.slice(0, 40)}"; known: lock, unlock, horn, headlights, speed-limit, message, ping`);
    }
  }
}
