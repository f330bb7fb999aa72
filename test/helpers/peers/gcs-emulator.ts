/**
 * Google Cloud Storage peers for tests:
 * - firebase-tools' Cloud Storage emulator (the real third-party peer), run by
 *   the shared script `../shared/peers/gcs-emulator.cjs` on a free loopback port;
 * - {@link startGcsStub}, a tiny loopback HTTP server standing in for the API
 *   when a test needs answers the emulator never gives (401, 429, 308, ...).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killOnExit, stopProcess, waitForLine } from './process.ts';

/** A running emulator. */
export interface GcsEmulator {
  /** `http://127.0.0.1:PORT`, for `STORAGE_EMULATOR_HOST` and the store's endpoint. */
  readonly endpoint: string;
  /** Stops the emulator process. */
  stop(): Promise<void>;
}

// Generous: a cold start loads firebase-tools (~2 s here) on a possibly loaded machine.
const START_TIMEOUT_MS = 60_000;
const READY = /gcs emulator on (http:\/\/[^\s]+)/u;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function emulatorScript(): string {
  try {
    createRequire(join(REPO_ROOT, 'package.json')).resolve('firebase-tools/package.json');
  } catch {
    throw new Error('GCS emulator peer missing: firebase-tools is not installed (devDependency firebase-tools@15.34.2): run "npm install" in the project root');
  }
  const script = join(REPO_ROOT, '..', 'shared', 'peers', 'gcs-emulator.cjs');
  if (!existsSync(script)) throw new Error(`GCS emulator peer missing: the launcher ${script} does not exist`);
  return script;
}

/**
 * Starts firebase-tools' Cloud Storage emulator with the project's Node (24)
 * and resolves once it listens. Fails (never skips) with a message naming the
 * emulator when firebase-tools or the launcher is missing or it cannot start.
 */
export async function startGcsEmulator(): Promise<GcsEmulator> {
  const script = emulatorScript();
  // The OS picked the port but released it: another process may take it first, so retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, [script], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    try {
      const ready = { peer: 'GCS emulator (firebase-tools)', pattern: READY, says: 'gcs emulator on', timeoutMs: START_TIMEOUT_MS };
      const endpoint = (await waitForLine(child, ready))[1] ?? '';
      return { endpoint, stop: () => stopProcess(child) };
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt >= 3 || !/EADDRINUSE/u.test(String(err))) throw err;
    }
  }
}

/**
 * Writes a service-account key file (fresh RSA key, project `demo-test`) to
 * `path`: the emulator checks no credentials, but the store reads and
 * validates the file as in production.
 */
export async function writeServiceAccount(path: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(path, JSON.stringify({
    type: 'service_account', project_id: 'demo-test', client_email: 'stowage@demo-test.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  }));
  return path;
}

/** One request as the stub saw it. */
export interface StubRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** Body bytes received. */
  readonly bytes: number;
  /** True when the client cut the request off before the body ended. */
  readonly aborted: boolean;
}

/** A running stub; `requests` fills in as requests finish or are cut off. */
export interface GcsStub {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly requests: readonly StubRequest[];
  /** Resolves with the first recorded request matching `match` (already seen or still to come). */
  waitForRequest(match: (req: StubRequest) => boolean): Promise<StubRequest>;
  close(): Promise<void>;
}

/** Answers one request; `body` is the complete request body. */
export type StubHandler = (req: IncomingMessage, body: Buffer, res: ServerResponse, endpoint: string) => void;

/**
 * Starts a loopback HTTP server that records every request (and whether its
 * body was cut off) and lets `handler` answer the complete ones. `onStart` sees
 * each request as soon as its headers arrive (to act while a body streams in).
 */
export async function startGcsStub(handler: StubHandler, onStart?: (req: IncomingMessage) => void): Promise<GcsStub> {
  const requests: StubRequest[] = [];
  const waiters = new Set<{ match: (req: StubRequest) => boolean; resolve: (req: StubRequest) => void }>();
  let endpoint = '';
  const server = createServer((req, res) => {
    onStart?.(req);
    const chunks: Buffer[] = [];
    let done = false;
    const record = (aborted: boolean): void => {
      if (done) return;
      done = true;
      const bytes = chunks.reduce((n, c) => n + c.length, 0);
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes, aborted };
      requests.push(seen);
      for (const waiter of waiters) {
        if (!waiter.match(seen)) continue;
        waiters.delete(waiter);
        waiter.resolve(seen);
      }
    };
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      record(false);
      handler(req, Buffer.concat(chunks), res, endpoint);
    });
    req.on('close', () => record(!req.complete));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return {
    endpoint,
    requests,
    waitForRequest: (match) => {
      const seen = requests.find(match);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.add({ match, resolve }));
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
