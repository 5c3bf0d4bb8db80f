/**
 * `thingwire broker` as a user runs it: a child process under Node (`node src/cli/main.ts`) and
 * under Deno (`deno run` with the narrowest flags that work), a round trip through the URLs it
 * prints, then SIGTERM/SIGINT and exit code 0. Usage and listen errors in-process via main().
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import mqtt from "mqtt";
import { describe, expect, test } from "vitest";
import type { CliIO } from "../../src/cli/command.ts";
import { main } from "../../src/cli/main.ts";
import { makeCerts } from "../helpers/certs.ts";
import { canConnect, withTimeout } from "../helpers/wait.ts";

const root = join(import.meta.dirname, "../..");
const denoBin = join(root, "node_modules/.bin/deno");
/** What `thingwire broker` needs under Deno: loopback sockets and environment reads (readable-stream, mqtt.js). */
const DENO_FLAGS = ["--no-prompt", "--allow-net=127.0.0.1", "--allow-env"];

interface Running {
  child: ChildProcess;
  firstLine: Promise<string>;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(cmd: string, args: string[]): Running {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  let resolveLine: (l: string) => void;
  let rejectLine: (e: Error) => void;
  const firstLine = new Promise<string>((res, rej) => {
    resolveLine = res;
    rejectLine = rej;
  });
  firstLine.catch(() => {}); // observed by the tests that await it
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    const nl = out.indexOf("\n");
    if (nl >= 0) resolveLine(out.slice(0, nl));
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once("exit", (code, signal) => {
      rejectLine(new Error(`exited (${code}, ${signal}) before printing a line; stderr: ${err}`));
      res({ code, signal });
    })
  );
  return { child, firstLine, stdout: () => out, stderr: () => err, exit };
}

async function roundTrip(url: string, opts: mqtt.IClientOptions = {}): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  try {
    const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(p.toString())));
    await client.subscribeAsync("cli/rt", { qos: 1 });
    await client.publishAsync("cli/rt", `via ${url}`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

function memoryIO(): CliIO & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    readStdin: async () => new Uint8Array(),
    stdout(c: string | Uint8Array) {
      io.out += typeof c === "string" ? c : new TextDecoder().decode(c);
    },
    stderr(c: string) {
      io.err += c;
    },
    env: {},
    cwd: root,
    waitForStop: () => new Promise<string>(() => {}),
  };
  return io;
}

async function jsonRoundTripThenSignal(cmd: string, args: string[], signal: NodeJS.Signals): Promise<void> {
  const p = run(cmd, args);
  try {
    const line = await withTimeout(p.firstLine, 15_000, "the URL line");
    const urls = JSON.parse(line) as { wsUrl: string; tcpUrl?: string };
    expect(urls.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(urls.tcpUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(await roundTrip(urls.wsUrl)).toBe(`via ${urls.wsUrl}`);
    expect(await roundTrip(urls.tcpUrl!)).toBe(`via ${urls.tcpUrl}`);
    p.child.kill(signal);
    const { code } = await withTimeout(p.exit, 10_000, "exit after " + signal);
    expect(code, p.stderr()).toBe(0);
    expect(p.stdout().trim().split("\n")).toHaveLength(1); // --json: exactly one line
    const port = Number(new URL(urls.wsUrl).port);
    expect(await canConnect(port)).toBe(false);
  } finally {
    p.child.kill("SIGKILL");
  }
}

describe("thingwire broker under Node (child process)", () => {
  test("--port 0 --tcp-port 0 --json: one JSON line, ws and tcp round trips, SIGTERM exits 0", async () => {
    await jsonRoundTripThenSignal(process.execPath, ["src/cli/main.ts", "broker", "--port", "0", "--tcp-port", "0", "--json"], "SIGTERM");
  });

  test("human output; SIGINT stops it with exit 0", async () => {
    const p = run(process.execPath, ["src/cli/main.ts", "broker", "--port", "0"]);
    try {
      const first = await withTimeout(p.firstLine, 15_000, "the first line");
      expect(first).toMatch(/listening/);
      await withTimeout((async () => {
        while (!/Ctrl\+C/.test(p.stdout())) await new Promise((r) => setTimeout(r, 20));
      })(), 5_000, "the URL list");
      const url = p.stdout().match(/ws:\/\/127\.0\.0\.1:\d+/)?.[0];
      expect(url).toBeDefined();
      expect(await roundTrip(url!)).toBe(`via ${url}`);
      p.child.kill("SIGINT");
      const { code } = await withTimeout(p.exit, 10_000, "exit after SIGINT");
      expect(code).toBe(0);
      expect(p.stdout()).toMatch(/stopped \(SIGINT\)/);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  test("--tls-port with --key/--cert/--ca: mqtts with a client certificate", async () => {
    const certs = makeCerts();
    const p = run(process.execPath, [
      "src/cli/main.ts", "broker", "--port", "0", "--tls-port", "0", "--wss-port", "0", "--json",
      "--key", certs.server.keyPath, "--cert", certs.server.certPath, "--ca", certs.ca.certPath,
    ]);
    try {
      const urls = JSON.parse(await withTimeout(p.firstLine, 15_000, "the URL line")) as { tlsUrl: string; wssUrl: string };
      const tls = { ca: certs.ca.cert, key: certs.client.key, cert: certs.client.cert };
      expect(await roundTrip(urls.tlsUrl, tls)).toBe(`via ${urls.tlsUrl}`);
      expect(await roundTrip(urls.wssUrl, tls)).toBe(`via ${urls.wssUrl}`);
      p.child.kill("SIGTERM");
      expect((await withTimeout(p.exit, 10_000, "exit")).code).toBe(0);
    } finally {
      p.child.kill("SIGKILL");
    }
  });
});

describe("thingwire broker under Deno (child process, narrow permissions)", () => {
  test(`deno run ${DENO_FLAGS.join(" ")} src/cli/main.ts broker --json: round trips, SIGTERM exits 0`, async () => {
    await jsonRoundTripThenSignal(denoBin, ["run", ...DENO_FLAGS, "src/cli/main.ts", "broker", "--port", "0", "--tcp-port", "0", "--json"], "SIGTERM");
  });

  test("TLS under Deno needs --allow-read for the key files only", async () => {
    const certs = makeCerts();
    const p = run(denoBin, [
      "run", ...DENO_FLAGS, `--allow-read=${certs.dir}`, "src/cli/main.ts", "broker", "--port", "0", "--tls-port", "0", "--json",
      "--key", certs.server.keyPath, "--cert", certs.server.certPath,
    ]);
    try {
      const urls = JSON.parse(await withTimeout(p.firstLine, 15_000, "the URL line")) as { tlsUrl: string };
      expect(await roundTrip(urls.tlsUrl, { ca: certs.ca.cert })).toBe(`via ${urls.tlsUrl}`);
      p.child.kill("SIGINT");
      expect((await withTimeout(p.exit, 10_000, "exit")).code).toBe(0);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  test("without --allow-env Deno refuses with a clear message (why the flag is needed)", async () => {
    const p = run(denoBin, ["run", "--no-prompt", "--allow-net=127.0.0.1", "src/cli/main.ts", "broker", "--port", "0", "--json"]);
    const { code } = await withTimeout(p.exit, 15_000, "exit");
    expect(code).not.toBe(0);
    expect(p.stderr()).toMatch(/--allow-env/);
  });
});

describe("thingwire broker errors (in-process)", () => {
  test("--help prints usage and exits 0", async () => {
    const io = memoryIO();
    expect(await main(["broker", "--help"], io)).toBe(0);
    expect(io.out).toMatch(/Usage: thingwire broker/);
    expect(io.out).toMatch(/--tcp-port/);
  });

  test.each([
    [["--port", "abc"], /--port must be a port number/],
    [["--port", "70000"], /--port must be a port number/],
    [["--tls-port", "0"], /need --key FILE and --cert FILE/],
    [["--key", "k.pem"], /only apply with --tls-port/],
    [["--bogus"], /Unknown option/],
    [["--tls-port", "0", "--key", "/nonexistent/k.pem", "--cert", "/nonexistent/c.pem"], /--key \/nonexistent\/k\.pem: cannot read the file \(ENOENT\)/],
  ])("usage error %j exits 2", async (args, message) => {
    const io = memoryIO();
    expect(await main(["broker", ...args], io)).toBe(2);
    expect(io.err).toMatch(message);
    expect(io.out).toBe("");
  });

  test("a port in use exits 3 with the port and what to do", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const io = memoryIO();
      expect(await main(["broker", "--port", String(port)], io)).toBe(3);
      expect(io.err).toContain(`127.0.0.1:${port}`);
      expect(io.err).toMatch(/already in use/);
    } finally {
      blocker.close();
    }
  });
});
