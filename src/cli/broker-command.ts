/**
 * `thingwire broker`: the embedded aedes broker on localhost, so everything works with nothing
 * installed. Prints its URLs, runs until SIGINT/SIGTERM, then closes cleanly.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BrokerListenError, type BrokerOptions, startBroker } from "./broker.ts";
import { type CliIO, type Command, EXIT } from "./command.ts";

const usage = `Usage: thingwire broker [options]

Runs an embedded MQTT broker (aedes, MQTT 3.1.1) on localhost until Ctrl+C (SIGINT) or SIGTERM.
Devices connect over WebSocket; plain TCP and TLS listeners are optional.

Options:
  --port N        WebSocket port (default 8080; 0 = any free port)
  --tcp-port N    also listen for MQTT over TCP on this port (0 = any free port)
  --tls-port N    also listen for MQTT over TLS (mqtts) on this port; needs --key and --cert
  --wss-port N    also listen for secure WebSocket (wss) on this port; needs --key and --cert
  --key FILE      PEM private key of the server certificate (for --tls-port / --wss-port)
  --cert FILE     PEM server certificate (for --tls-port / --wss-port)
  --ca FILE       PEM CA: TLS clients must present a certificate signed by it
  --host H        interface to bind (default 127.0.0.1)
  --json          print one JSON line {"wsUrl", "tcpUrl"?, "tlsUrl"?, "wssUrl"?} instead of text
  --verbose       log client connects, disconnects and errors to stderr
  -h, --help      this text

Exit codes: 0 stopped by a signal, 2 bad options or unreadable key files, 3 cannot listen (port in use).

Example:
  thingwire broker --port 8080 --tcp-port 1883
`;

function parsePort(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535, got "${value}"`);
  }
  return Number(value);
}

class UsageError extends Error {}

async function readPem(io: CliIO, flag: string, path: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, path), "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`--${flag} ${path}: cannot read the file (${code ?? (e as Error).message}); check the path and its permissions`);
  }
}

async function buildOptions(argv: string[], io: CliIO): Promise<{ options: BrokerOptions; json: boolean }> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        "tcp-port": { type: "string" },
        "tls-port": { type: "string" },
        "wss-port": { type: "string" },
        key: { type: "string" },
        cert: { type: "string" },
        ca: { type: "string" },
        host: { type: "string" },
        json: { type: "boolean" },
        verbose: { type: "boolean" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const wsPort = parsePort("port", values.port) ?? 8080;
  const tcpPort = parsePort("tcp-port", values["tcp-port"]);
  const tlsPort = parsePort("tls-port", values["tls-port"]);
  const wssPort = parsePort("wss-port", values["wss-port"]);
  const wantsTls = tlsPort !== undefined || wssPort !== undefined;
  if (wantsTls && (values.key === undefined || values.cert === undefined)) {
    throw new UsageError("--tls-port and --wss-port need --key FILE and --cert FILE (the server's PEM key and certificate)");
  }
  if (!wantsTls && (values.key !== undefined || values.cert !== undefined || values.ca !== undefined)) {
    throw new UsageError("--key, --cert and --ca only apply with --tls-port or --wss-port");
  }
  if (values.host !== undefined && values.host.trim() === "") throw new UsageError("--host must not be empty");
  const options: BrokerOptions = { wsPort, host: values.host ?? "127.0.0.1" };
  if (tcpPort !== undefined) options.tcpPort = tcpPort;
  if (wantsTls) {
    const key = await readPem(io, "key", values.key!);
    const cert = await readPem(io, "cert", values.cert!);
    const ca = values.ca === undefined ? undefined : await readPem(io, "ca", values.ca);
    options.tls = { key, cert };
    if (tlsPort !== undefined) options.tls.port = tlsPort;
    if (wssPort !== undefined) options.tls.wsPort = wssPort;
    if (ca !== undefined) Object.assign(options.tls, { ca, requestCert: true });
  }
  if (values.verbose) options.log = (line) => io.stderr(`thingwire broker: ${line}\n`);
  return { options, json: values.json ?? false };
}

const brokerCommand: Command = {
  name: "broker",
  summary: "run the embedded MQTT broker (aedes) on localhost: ws, optional tcp and tls",
  usage,
  async run(argv, io) {
    let built;
    try {
      built = await buildOptions(argv, io);
    } catch (e) {
      if (e instanceof UsageError) {
        io.stderr(`thingwire broker: ${e.message}\nRun "thingwire broker --help" for the options.\n`);
        return EXIT.USAGE;
      }
      throw e;
    }
    const { options, json } = built;
    const stopped = io.waitForStop();
    let broker;
    try {
      broker = await startBroker(options);
    } catch (e) {
      if (e instanceof BrokerListenError) {
        io.stderr(`thingwire broker: ${e.message}\n`);
        return EXIT.UNREACHABLE;
      }
      io.stderr(`thingwire broker: could not start: ${(e as Error).message}\n`);
      return EXIT.FAILED;
    }
    const urls: Record<string, string> = { wsUrl: broker.wsUrl };
    if (broker.tcpUrl) urls.tcpUrl = broker.tcpUrl;
    if (broker.tlsUrl) urls.tlsUrl = broker.tlsUrl;
    if (broker.wssUrl) urls.wssUrl = broker.wssUrl;
    if (json) {
      io.stdout(JSON.stringify(urls) + "\n");
    } else {
      const rows: [string, string | undefined][] = [["ws", broker.wsUrl], ["tcp", broker.tcpUrl], ["tls", broker.tlsUrl], ["wss", broker.wssUrl]];
      io.stdout(
        "thingwire broker (aedes, MQTT 3.1.1) listening:\n" +
          rows.filter(([, u]) => u !== undefined).map(([k, u]) => `  ${k.padEnd(4)} ${u}\n`).join("") +
          "Press Ctrl+C to stop.\n",
      );
    }
    const signal = await stopped;
    await broker.close();
    if (!json) io.stdout(`thingwire broker: stopped (${signal})\n`);
    return EXIT.OK;
  },
};

export default brokerCommand;
