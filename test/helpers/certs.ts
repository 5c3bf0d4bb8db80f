/**
 * Test certificates made with the `openssl` binary: a test CA, a server certificate for
 * localhost/127.0.0.1, client certificates (CN = a thing id, extendedKeyUsage=clientAuth), a second
 * unrelated CA with a client certificate of its own ("unknown CA"), and an expired client
 * certificate. Keys are EC P-256 (fast to make). Results are cached per process and directory.
 *
 * @example
 * const certs = makeCerts();
 * mqtt.connect(url, { ca: certs.ca.cert, key: certs.client.key, cert: certs.client.cert });
 * const other = certs.makeClient("thing-2");
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A key and certificate, as files and as PEM strings. */
export interface CertPair {
  /** Subject common name. */
  cn: string;
  keyPath: string;
  certPath: string;
  key: string;
  cert: string;
}

export interface TestCerts {
  /** The directory holding every file. */
  dir: string;
  /** The test CA (signs server, client, expiredClient, makeClient(...)). */
  ca: CertPair;
  /** Server certificate: CN=localhost, subjectAltName=DNS:localhost,IP:127.0.0.1, signed by `ca`. */
  server: CertPair;
  /** Client certificate CN=thing-1 signed by `ca`. */
  client: CertPair;
  /** A second, unrelated CA. */
  otherCa: CertPair;
  /** Client certificate CN=thing-1 signed by `otherCa` (an "unknown CA" for the broker). */
  foreignClient: CertPair;
  /** Client certificate CN=thing-1 signed by `ca` whose notAfter lies before its notBefore (expired). */
  expiredClient: CertPair;
  /** A client certificate with another CN signed by `ca` (cached per CN). */
  makeClient(cn: string): CertPair;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error("openssl not found: install it with `apt-get install -y openssl`");
    }
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: e });
  }
}

const safeName = (cn: string) => cn.replace(/[^A-Za-z0-9._-]/g, "_");

function pair(dir: string, name: string, cn: string): CertPair {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.pem`);
  return { cn, keyPath, certPath, key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8") };
}

function makeCa(dir: string, name: string, cn: string): CertPair {
  openssl([
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "3650", "-subj", `/CN=${cn}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  return pair(dir, name, cn);
}

function makeLeaf(dir: string, name: string, cn: string, ca: CertPair, ext: string, days: number): CertPair {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`,
    "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
  openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", ca.certPath, "-CAkey", ca.keyPath, "-CAcreateserial",
    "-out", `${name}.pem`, "-days", String(days), "-extfile", `${name}.ext`], dir);
  return pair(dir, name, cn);
}

const CLIENT_EXT = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n";
const SERVER_EXT = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n";

const cache = new Map<string, TestCerts>();
let defaultDir: string | undefined;

/**
 * Makes (or returns the cached) test certificates in `dir` (default: one temporary directory per
 * process, removed at exit). Synchronous; takes ~0.3 s the first time.
 */
export function makeCerts(dir?: string): TestCerts {
  if (dir === undefined) {
    if (defaultDir === undefined) {
      defaultDir = mkdtempSync(join(tmpdir(), "thingwire-certs-"));
      const d = defaultDir;
      process.once("exit", () => rmSync(d, { recursive: true, force: true }));
    }
    dir = defaultDir;
  }
  const hit = cache.get(dir);
  if (hit) return hit;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, "ca", "thingwire test CA");
  const server = makeLeaf(dir, "server", "localhost", ca, SERVER_EXT, 3650);
  const client = makeLeaf(dir, "client-thing-1", "thing-1", ca, CLIENT_EXT, 3650);
  const otherCa = makeCa(dir, "other-ca", "unrelated test CA");
  const foreignClient = makeLeaf(dir, "foreign-client", "thing-1", otherCa, CLIENT_EXT, 3650);
  const expiredClient = makeLeaf(dir, "expired-client", "thing-1", ca, CLIENT_EXT, -1);
  const clients = new Map<string, CertPair>([["thing-1", client]]);
  const d = dir;
  const certs: TestCerts = {
    dir: d,
    ca,
    server,
    client,
    otherCa,
    foreignClient,
    expiredClient,
    makeClient(cn: string) {
      let c = clients.get(cn);
      if (!c) {
        c = makeLeaf(d, `client-${safeName(cn)}-${clients.size}`, cn, ca, CLIENT_EXT, 3650);
        clients.set(cn, c);
      }
      return c;
    },
  };
  cache.set(dir, certs);
  return certs;
}
