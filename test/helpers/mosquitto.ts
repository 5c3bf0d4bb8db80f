/**
 * Real Mosquitto (2.0.x) for integration tests: writes a config into a temporary directory, starts
 * `mosquitto -c` (never `-d`, so start-up errors reach the log) and resolves once every listener
 * accepts TCP connections. Listeners bind 127.0.0.1 only (`socket_domain ipv4`).
 *
 * Listeners (each its own port, `per_listener_settings true`):
 *   tcp      always on (Mosquitto will not start with WebSocket listeners only); anonymous
 *   ws       `ws: true`; anonymous
 *   wss      `wss: true | {...}`; TLS with the test server certificate; by default requires a client
 *            certificate signed by the test CA, uses its CN as the username and applies the ACL
 *            `pattern readwrite devices/%u/#` (a publish elsewhere gets MQTT 5 PUBACK reason 135)
 *   mqtts    `mqtts: true | {...}`; TLS; by default no client certificate required; anonymous
 *   tcpAuth  with `passwords`: username + password required (mosquitto_passwd file)
 *   wsAuth   with `passwords` and `ws`: the same over WebSocket
 *
 * Brokers are stopped at process exit, and a detached watchdog shell kills each one if the test
 * process dies without running exit hooks (SIGKILL of a Vitest worker), so none stays behind.
 *
 * @example
 * const broker = await startMosquitto({ ws: true, wss: true });
 * const c = await mqtt.connectAsync(broker.wsUrl);
 * await broker.restart();   // same ports
 * await broker.stop();
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { makeCerts, type TestCerts } from "./certs.ts";
import { freePorts } from "./ports.ts";
import { canConnect, sleep } from "./wait.ts";

export type ListenerName = "tcp" | "ws" | "wss" | "mqtts" | "tcpAuth" | "wsAuth";

export interface TlsListenerOptions {
  /** Require a client certificate signed by the test CA (`require_certificate`). wss default true, mqtts default false. */
  requireCertificate?: boolean;
  /** Use the client certificate's CN as the username (`use_identity_as_username`). Default: = requireCertificate. */
  identityAsUsername?: boolean;
  /**
   * ACL file contents for this listener, or false for none. Default when identityAsUsername:
   * `pattern readwrite devices/%u/#`.
   */
  acl?: string | false;
  /** `allow_anonymous` for this listener. Default: true unless identityAsUsername. */
  allowAnonymous?: boolean;
}

export interface MosquittoOptions {
  /** The plain TCP listener is always on (Mosquitto needs one); `tcp: true` only documents that. */
  tcp?: true;
  /** A WebSocket listener (anonymous). */
  ws?: boolean;
  /** A secure WebSocket listener (see TlsListenerOptions for the defaults: mTLS + ACL). */
  wss?: boolean | TlsListenerOptions;
  /** An MQTT-over-TLS listener (default: server TLS only, anonymous). */
  mqtts?: boolean | TlsListenerOptions;
  /** Users and passwords: adds a `tcpAuth` listener (and `wsAuth` when `ws`) that require them. */
  passwords?: Record<string, string>;
  /** ACL file contents for the password listeners (default: none, i.e. everything allowed). */
  passwordAcl?: string;
  /** Fixed ports per listener (default: free ports). restart() always reuses the same ports. */
  ports?: Partial<Record<ListenerName, number>>;
  /** true: persistence in a temporary directory; a string: that directory. Default false. */
  persistence?: boolean | string;
  /** `autosave_interval` seconds when persistence is on (default 1800, Mosquitto's default). */
  autosaveInterval?: number;
  /** `autosave_on_changes` (then autosave_interval counts changes, not seconds). */
  autosaveOnChanges?: boolean;
  /** `max_inflight_messages` (Mosquitto's default 20 when unset; 0 = unlimited). */
  maxInflightMessages?: number;
  /** `max_queued_messages` (default here 0 = unlimited; Mosquitto's own default 1000 drops bursts). */
  maxQueuedMessages?: number;
  /** Extra lines for the global section of the config (before the listeners). */
  extraConfig?: string;
  /** Certificates to use (default: makeCerts()). */
  certs?: TestCerts;
  /** How long to wait for every listener (default 10 s). */
  startTimeoutMs?: number;
}

export interface MosquittoBroker {
  /** mqtt://127.0.0.1:port */
  tcpUrl: string;
  /** ws://127.0.0.1:port (when `ws`) */
  wsUrl: string | undefined;
  /** wss://127.0.0.1:port (when `wss`); the server certificate covers IP 127.0.0.1 and DNS localhost. */
  wssUrl: string | undefined;
  /** mqtts://127.0.0.1:port (when `mqtts`) */
  mqttsUrl: string | undefined;
  /** mqtt://127.0.0.1:port of the password listener (when `passwords`) */
  tcpAuthUrl: string | undefined;
  /** ws://127.0.0.1:port of the password listener (when `passwords` and `ws`) */
  wsAuthUrl: string | undefined;
  /** Every listener's URL by name. */
  urls: Partial<Record<ListenerName, string>>;
  ports: Partial<Record<ListenerName, number>>;
  certs: TestCerts;
  /** The temporary directory holding mosquitto.conf, the log, ACL and password files. */
  dir: string;
  configPath: string;
  logPath: string;
  /** The persistence directory when persistence is on. */
  persistenceDir: string | undefined;
  /** The current process id (changes on restart), undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The log file's contents so far. */
  log(): string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. Idempotent. */
  kill(): Promise<void>;
  /** Start again on the same ports (stops first if running); resolves when every listener accepts connections. */
  restart(): Promise<void>;
  /** stop() and remove the temporary directory. */
  dispose(): Promise<void>;
}

/** Where the mosquitto binary is: $MOSQUITTO_PATH, /usr/sbin/mosquitto, or `mosquitto` on PATH. */
export function mosquittoPath(): string {
  const candidates = [process.env.MOSQUITTO_PATH, "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto",
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "mosquitto"))];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new Error("mosquitto not found: install it with `apt-get install -y mosquitto`");
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const p of live) {
      try {
        p.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** A detached shell that SIGKILLs `pid` once this process is gone (covers a SIGKILLed test worker). */
function watchdog(pid: number, dir: string): void {
  // Only the owner's death triggers the cleanup; a broker stopped normally just ends the loop.
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; ` +
    `if ! kill -0 ${process.pid} 2>/dev/null; then kill -9 ${pid} 2>/dev/null; rm -rf '${dir}'; fi`;
  const w = spawn("/bin/sh", ["-c", script], {
    detached: true,
    stdio: "ignore",
  });
  w.unref();
}

function writePasswordFile(path: string, passwords: Record<string, string>): void {
  writeFileSync(path, "");
  for (const [user, password] of Object.entries(passwords)) {
    if (user.includes(":")) throw new Error(`startMosquitto: username "${user}" must not contain ":"`);
    try {
      execFileSync("mosquitto_passwd", ["-b", path, user, password], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new Error("mosquitto_passwd not found: install it with `apt-get install -y mosquitto`");
      }
      throw new Error(`mosquitto_passwd failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim()}`);
    }
  }
}

function tlsDefaults(o: boolean | TlsListenerOptions | undefined, requireByDefault: boolean): Required<TlsListenerOptions> {
  const x = typeof o === "object" ? o : {};
  const requireCertificate = x.requireCertificate ?? requireByDefault;
  const identityAsUsername = x.identityAsUsername ?? requireCertificate;
  return {
    requireCertificate,
    identityAsUsername,
    acl: x.acl ?? (identityAsUsername ? "pattern readwrite devices/%u/#\n" : false),
    allowAnonymous: x.allowAnonymous ?? !identityAsUsername,
  };
}

function buildConfig(o: MosquittoOptions, dir: string, ports: Partial<Record<ListenerName, number>>, getCerts: () => TestCerts, logPath: string, persistenceDir: string | undefined): string {
  const lines: string[] = ["per_listener_settings true"];
  if (process.getuid?.() === 0) lines.push("user root");
  lines.push(`log_dest file ${logPath}`, "log_type error", "log_type warning", "log_type notice", "log_type information");
  lines.push("connection_messages true", "log_timestamp true");
  if (persistenceDir) {
    lines.push("persistence true", `persistence_location ${persistenceDir}/`, "persistence_file mosquitto.db");
    if (o.autosaveInterval !== undefined) lines.push(`autosave_interval ${o.autosaveInterval}`);
    if (o.autosaveOnChanges) lines.push("autosave_on_changes true");
  } else {
    lines.push("persistence false");
  }
  lines.push(`max_queued_messages ${o.maxQueuedMessages ?? 0}`);
  if (o.maxInflightMessages !== undefined) lines.push(`max_inflight_messages ${o.maxInflightMessages}`);
  if (o.extraConfig) lines.push(o.extraConfig);

  const listener = (name: ListenerName, websockets: boolean) => {
    lines.push("", `listener ${ports[name]} 127.0.0.1`, "socket_domain ipv4");
    if (websockets) lines.push("protocol websockets");
  };
  const tls = (name: "wss" | "mqtts", t: Required<TlsListenerOptions>) => {
    const certs = getCerts();
    lines.push(`cafile ${certs.ca.certPath}`, `certfile ${certs.server.certPath}`, `keyfile ${certs.server.keyPath}`);
    lines.push(`require_certificate ${t.requireCertificate}`);
    if (t.identityAsUsername) lines.push("use_identity_as_username true");
    if (t.acl !== false) {
      const aclPath = join(dir, `${name}.acl`);
      writeFileSync(aclPath, t.acl);
      lines.push(`acl_file ${aclPath}`);
    }
    lines.push(`allow_anonymous ${t.allowAnonymous}`);
  };

  listener("tcp", false);
  lines.push("allow_anonymous true");
  if (o.ws) {
    listener("ws", true);
    lines.push("allow_anonymous true");
  }
  if (o.wss) {
    listener("wss", true);
    tls("wss", tlsDefaults(o.wss, true));
  }
  if (o.mqtts) {
    listener("mqtts", false);
    tls("mqtts", tlsDefaults(o.mqtts, false));
  }
  if (o.passwords) {
    const pwPath = join(dir, "passwords");
    writePasswordFile(pwPath, o.passwords);
    let aclPath: string | undefined;
    if (o.passwordAcl !== undefined) {
      aclPath = join(dir, "passwords.acl");
      writeFileSync(aclPath, o.passwordAcl);
    }
    const auth = () => {
      lines.push(`password_file ${pwPath}`, "allow_anonymous false");
      if (aclPath) lines.push(`acl_file ${aclPath}`);
    };
    listener("tcpAuth", false);
    auth();
    if (o.ws) {
      listener("wsAuth", true);
      auth();
    }
  }
  return lines.join("\n") + "\n";
}

function listenerNames(o: MosquittoOptions): ListenerName[] {
  const names: ListenerName[] = ["tcp"];
  if (o.ws) names.push("ws");
  if (o.wss) names.push("wss");
  if (o.mqtts) names.push("mqtts");
  if (o.passwords) {
    names.push("tcpAuth");
    if (o.ws) names.push("wsAuth");
  }
  return names;
}

const SCHEME: Record<ListenerName, string> = { tcp: "mqtt", ws: "ws", wss: "wss", mqtts: "mqtts", tcpAuth: "mqtt", wsAuth: "ws" };

/**
 * Starts Mosquitto with the listeners asked for; resolves when all accept TCP connections.
 * Throws (never skips) when mosquitto is not installed.
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const bin = mosquittoPath();
  installExitHook();
  const certs = opts.certs ?? (opts.wss || opts.mqtts ? makeCerts() : undefined);
  const dir = mkdtempSync(join(tmpdir(), "thingwire-mosquitto-"));
  tempDirs.add(dir);
  const configPath = join(dir, "mosquitto.conf");
  const logPath = join(dir, "mosquitto.log");
  let persistenceDir: string | undefined;
  if (opts.persistence === true) persistenceDir = join(dir, "persistence");
  else if (typeof opts.persistence === "string") persistenceDir = opts.persistence;
  if (persistenceDir) mkdirSync(persistenceDir, { recursive: true });
  const names = listenerNames(opts);
  const timeoutMs = opts.startTimeoutMs ?? 10_000;

  let ports: Partial<Record<ListenerName, number>> = {};
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");

  async function launch(): Promise<void> {
    writeFileSync(configPath, buildConfig(opts, dir, ports, () => certs ?? makeCerts(), logPath, persistenceDir));
    const logStart = readLog().length;
    const p = spawn(bin, ["-c", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    let exitInfo: string | undefined;
    exited = new Promise<void>((resolve) => {
      p.once("exit", (code, signal) => {
        exitInfo = `exit code ${code}, signal ${signal}`;
        live.delete(p);
        resolve();
      });
      p.once("error", (e) => {
        exitInfo = e.message;
        live.delete(p);
        resolve();
      });
    });
    if (p.pid === undefined) {
      await exited;
      throw new Error(`mosquitto did not start: ${exitInfo}`);
    }
    live.add(p);
    watchdog(p.pid, dir);
    child = p;
    const deadline = Date.now() + timeoutMs;
    // Another process may hold a port: then a TCP connect succeeds although this Mosquitto failed.
    // Mosquitto logs "... running" once every listener is open, so wait for that line first.
    for (const name of ["(log)" as const, ...names]) {
      for (;;) {
        if (exitInfo !== undefined) {
          child = undefined;
          const log = readLog().slice(logStart);
          throw Object.assign(new Error(`mosquitto exited during start-up (${exitInfo}). Log:\n${log}${stderr}`), {
            addressInUse: /Address already in use/i.test(log + stderr),
          });
        }
        if (name === "(log)" ? /mosquitto version \S+ running/.test(readLog().slice(logStart)) : await canConnect(ports[name]!, "127.0.0.1", 500)) break;
        if (Date.now() > deadline) {
          p.kill("SIGKILL");
          await exited;
          child = undefined;
          throw new Error(`mosquitto: ${name === "(log)" ? "the \"running\" log line" : `listener ${name} on port ${ports[name]}`} not up within ${timeoutMs} ms. Log:\n${readLog().slice(logStart)}${stderr}`);
        }
        await sleep(20);
      }
    }
  }

  async function halt(signal: NodeJS.Signals): Promise<void> {
    const p = child;
    if (!p) return;
    child = undefined;
    p.kill(signal);
    const timer = setTimeout(() => p.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  // Free ports are chosen before Mosquitto binds them; retry if another process took one meanwhile.
  for (let attempt = 0;; attempt++) {
    const free = await freePorts(names.length);
    ports = Object.fromEntries(names.map((n, i) => [n, opts.ports?.[n] ?? free[i]]));
    try {
      await launch();
      break;
    } catch (e) {
      const retry = (e as { addressInUse?: boolean }).addressInUse && attempt < 3 &&
        names.some((n) => opts.ports?.[n] === undefined);
      if (!retry) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }

  const urls: Partial<Record<ListenerName, string>> = Object.fromEntries(
    names.map((n) => [n, `${SCHEME[n]}://127.0.0.1:${ports[n]}`]),
  );

  const broker: MosquittoBroker = {
    tcpUrl: urls.tcp!,
    wsUrl: urls.ws,
    wssUrl: urls.wss,
    mqttsUrl: urls.mqtts,
    tcpAuthUrl: urls.tcpAuth,
    wsAuthUrl: urls.wsAuth,
    urls,
    ports,
    get certs() {
      return certs ?? makeCerts();
    },
    dir,
    configPath,
    logPath,
    persistenceDir,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined;
    },
    log: readLog,
    stop: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    async restart() {
      await halt("SIGTERM");
      await launch();
    },
    async dispose() {
      await halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
  return broker;
}
