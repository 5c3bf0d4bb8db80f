/**
 * The device suite's environment on Node and Deno: the embedded aedes broker (src/cli/broker.ts,
 * MQTT 3.1.1) started per test, stoppable and restartable on the same port, with memoryStore().
 * `transport` picks its WebSocket or its TCP listener. Not for the browser (it starts servers).
 */
import { type BrokerOptions, startBroker, type EmbeddedBroker } from "../../src/cli/broker.ts";
import { memoryStore } from "../../src/store/memory.ts";
import type { DeviceEnv, TestBroker } from "./device-broker.suite.ts";

type Authenticate = (
  client: unknown,
  username: unknown,
  password: Readonly<Uint8Array | undefined>,
  done: (e: (Error & { returnCode: number }) | null, ok: boolean | null) => void,
) => void;

export async function aedesBroker(transport: "ws" | "tcp", opts: { password?: string } = {}): Promise<TestBroker> {
  const authenticate: Authenticate | undefined = opts.password === undefined ? undefined : (_c, _u, password, done) => {
    const ok = password !== undefined && new TextDecoder().decode(password) === opts.password;
    done(ok ? null : Object.assign(new Error("bad username or password"), { returnCode: 4 }), ok);
  };
  const options = (wsPort: number, tcpPort: number): BrokerOptions => ({
    wsPort,
    tcpPort,
    ...(authenticate ? { aedes: { authenticate: authenticate as never } } : {}),
  });
  let broker: EmbeddedBroker | undefined = await startBroker(options(0, 0));
  const wsPort = broker.wsPort;
  const tcpPort = broker.tcpPort!;
  return {
    url: transport === "ws" ? broker.wsUrl : broker.tcpUrl!,
    async stop() {
      await broker?.close();
      broker = undefined;
    },
    async start() {
      if (broker) return;
      broker = await startBroker(options(wsPort, tcpPort));
    },
    async close() {
      await broker?.close();
      broker = undefined;
    },
  };
}

/** aedes over WebSocket (or TCP), MQTT 3.1.1, memoryStore(). */
export function aedesEnv(transport: "ws" | "tcp" = "ws"): DeviceEnv {
  return {
    protocolVersion: 4,
    broker: (opts) => aedesBroker(transport, opts),
    store: () => memoryStore(),
    restartable: true,
    canRefuseAuth: true,
  };
}
