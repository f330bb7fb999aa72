/**
 * Starts Stowage (`bin/stowage.mjs serve`, as `npm start` does) as a child process on a free
 * loopback port with its own DATA_PATH and admin token, waits for /healthz,
 * and stops it. The child runs under the same Node binary as the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { track } from './child-registry.ts';
import { envFlag } from './env.ts';
import { freePort } from './free-port.ts';
import { peakRssBytes } from './proc-stats.ts';

/** Repository root (bench/lib/ is two levels down). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface StartOptions {
  /** DATA_PATH of the instance (created if missing). */
  dataPath: string;
  /** Extra environment (CATALOG_URL...). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile into this folder at exit (`--cpu-prof`). */
  cpuProfileDir?: string;
}

export interface StowageInstance {
  pid: number;
  port: number;
  baseUrl: string;
  apiKey: string;
  dataPath: string;
  /** DATA_PATH/storage: `pathOriginal` = `/<bucket>/<key>` lives under it. */
  storageRoot: string;
  logPath: string;
  /** VmHWM now (read it before stop: /proc goes away with the process). */
  peakRss(): number | undefined;
  /** SIGTERM, then SIGKILL after a grace period. Returns the VmHWM seen just before. */
  stop(): Promise<number | undefined>;
  /**
   * Sends `signal` (SIGKILL: the instance dies at once, as in a crash) and
   * waits for the exit; resolves with its exit code, or null when a signal ended it.
   */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

/** Whether BENCH_CPU_PROF asks for server CPU profiles. */
export function cpuProfileWanted(): boolean {
  return envFlag('BENCH_CPU_PROF');
}

export async function startStowage(opts: StartOptions): Promise<StowageInstance> {
  await mkdir(opts.dataPath, { recursive: true });
  const port = await freePort();
  const logPath = join(opts.dataPath, 'stowage.log');
  const child = spawnServer(opts, port, logPath);
  const baseUrl = `http://127.0.0.1:${port}`;
  const pid = child.pid ?? 0;
  try {
    await waitHealthy(baseUrl, child, logPath);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid, port, baseUrl, logPath,
    apiKey: BENCH_ADMIN_TOKEN,
    dataPath: opts.dataPath,
    storageRoot: join(opts.dataPath, 'storage'),
    peakRss: () => peakRssBytes(pid),
    stop: async () => {
      const peak = peakRssBytes(pid);
      await stopChild(child, STOP_GRACE_MS);
      return peak;
    },
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      child.kill(signal);
      return exited;
    },
  };
}

/** The Node flags of `npm start` (package.json), so the bench measures what users run. */
function startScriptNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(1, words.indexOf('bin/stowage.mjs')).filter((w) => w.startsWith('--'));
}

function spawnServer(opts: StartOptions, port: number, logPath: string): ChildProcess {
  const profile = opts.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`];
  const nodeArgs = [...startScriptNodeFlags(), ...profile];
  const logFd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [...nodeArgs, 'bin/stowage.mjs', 'serve'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_PATH: opts.dataPath,
      STOWAGE_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      // Request logging is off in the server anyway; warn keeps stray info lines out of the timings.
      LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'warn',
      ...opts.env,
    },
  });
  closeSync(logFd);
  track(child);
  return child;
}

async function waitHealthy(baseUrl: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Stowage exited during start-up (code ${child.exitCode}, signal ${child.signalCode}):\n${logTail(logPath)}`);
    }
    if (await healthy(baseUrl)) return;
    await sleep(100);
  }
  throw new Error(`Stowage did not answer ${baseUrl}/healthz within ${READY_TIMEOUT_MS / 1000}s:\n${logTail(logPath)}`);
}

async function healthy(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Last lines of a server log, for error messages. */
export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Sends SIGTERM and waits for exit; SIGKILL if the grace period runs out. */
export async function stopChild(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
