/**
 * From a parsed DBC to what `thingwire simulate` sends: each message's bit layout (for the packer in
 * simulate-vehicle.ts), its bus, its CAN FD length code and how often it goes out.
 */
import { lengthToDlc } from "../codec/can.ts";
import type { Dbc } from "../codec/dbc.ts";
import { ThingwireError } from "../errors.ts";
import { packFrame, type PackMessage } from "./simulate-vehicle.ts";

/** A message with its schedule: sent on every `every`-th step of the model. */
export interface ScheduledMessage {
  message: PackMessage;
  /** Bus number (0–7) written into each reading. */
  bus: number;
  /** CAN FD data length code of `message.size`. */
  dlc: number;
  every: number;
  pack(values: Readonly<Record<string, number>>): Uint8Array;
}

/** The bit layout of every message in the DBC. */
export function dbcLayout(dbc: Dbc): PackMessage[] {
  return dbc.messages.map((m) => ({
    name: m.name,
    canId: m.id,
    extended: m.extended,
    size: m.size,
    signals: m.signals.map((s) => ({
      name: s.name,
      startBit: s.startBit,
      length: s.length,
      byteOrder: s.byteOrder,
      signed: s.signed,
      factor: s.factor,
      offset: s.offset,
      float: s.valueType !== "integer",
      isMultiplexor: s.multiplexer,
      ...(s.multiplexValue !== undefined ? { muxValue: s.multiplexValue } : {}),
    })),
  }));
}

/**
 * Steps between two frames of a message, like a vehicle's cycle times at a 100 ms step: engine and
 * wheel speed every step, the rest slower. Messages the model does not know go out every 10th step.
 */
const EVERY: Record<string, number> = {
  EngineData: 1,
  VehicleMotion: 1,
  Transmission: 2,
  PowerSupply: 2,
  TirePressure: 1, // one tyre per frame (multiplexed), each tyre every 4th step
  BodyStatus: 5,
  CruiseFuel: 10,
  Environment: 10,
};

/** Powertrain messages on bus 0, body and comfort on bus 1. */
const BUS: Record<string, number> = { PowerSupply: 1, BodyStatus: 1, Environment: 1, TirePressure: 1 };

export function schedule(layout: readonly PackMessage[]): ScheduledMessage[] {
  return layout.map((message) => {
    const dlc = lengthToDlc(message.size);
    if (dlc === undefined) {
      throw new ThingwireError("DBC_INVALID", `message ${message.name} has ${message.size} bytes, which no CAN FD length code gives (0–8, 12, 16, 20, 24, 32, 48, 64)`);
    }
    return {
      message,
      bus: BUS[message.name] ?? 0,
      dlc,
      every: EVERY[message.name] ?? 10,
      pack: (values) => packFrame(message, values),
    };
  });
}
