/**
 * A real S3 peer for tests: a one-node Ceph cluster with the radosgw S3
 * gateway on loopback, started by the shared `ceph-rgw-up.sh` script (about
 * 15 s) and stopped by `ceph-rgw-down.sh`. One gateway is shared per test
 * process: every `startRadosgw()` returns it until `stop()`.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listenOn } from './process.ts';

const run = promisify(execFile);

/** A running gateway and the user the up script created. */
export interface Radosgw {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Scratch folder with `ceph.conf`, logs and pid files. */
  readonly dir: string;
  /** Runs `radosgw-admin` against this cluster; resolves with its stdout. */
  admin(...args: string[]): Promise<string>;
  /** Stops the gateway, monitor and OSD, and removes the scratch folder. */
  stop(): Promise<void>;
}

/** Options of {@link startRadosgw}; only the first start of a process uses them. */
export interface RadosgwOptions {
  /** RAM for objects (`RGW_MEMSTORE_BYTES`); default 2 GiB. */
  readonly memstoreBytes?: number;
}

const INSTALL_HINT = 'apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw';
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PEERS_DIR = join(REPO_ROOT, '..', 'shared', 'peers');
const PID_FILES = ['client.rgw.a.pid', 'osd.0.pid', 'mon.a.pid'];

let shared: Promise<Radosgw> | undefined;

/** The process's gateway, started on first use; fails (never skips) when Ceph is missing. */
export function startRadosgw(options: RadosgwOptions = {}): Promise<Radosgw> {
  shared ??= launch(options).catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function checkPrerequisites(): void {
  for (const command of ['radosgw', 'radosgw-admin', 'ceph-mon', 'ceph-osd']) {
    if (!onPath(command)) throw new Error(`${command} not installed (radosgw S3 peer): ${INSTALL_HINT}`);
  }
  for (const script of ['ceph-rgw-up.sh', 'ceph-rgw-down.sh']) {
    try {
      accessSync(join(PEERS_DIR, script), fsConstants.R_OK);
    } catch {
      throw new Error(`radosgw peer script ${join(PEERS_DIR, script)} is missing (shared/ must sit beside the repo)`);
    }
  }
}

/** A port P, free along with P+1 (the monitor's), as the OS hands them out. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await listenOn(0);
    if (port !== undefined && port < 65_535 && (await listenOn(port + 1)) !== undefined) return port;
  }
  throw new Error('no free pair of loopback ports for radosgw');
}

function randomKey(length: number): string {
  return randomBytes(length).toString('base64url').replace(/[-_]/gu, 'x').slice(0, length);
}

async function launch(options: RadosgwOptions): Promise<Radosgw> {
  checkPrerequisites();
  const dir = await mkdtemp(join(tmpdir(), 'stowage-rgw-'));
  const cluster = join(dir, 'cluster');
  const port = await freePortPair();
  const accessKey = randomKey(20).toUpperCase();
  const secretKey = randomKey(40);
  const env = { ...process.env, RGW_MEMSTORE_BYTES: String(options.memstoreBytes ?? 2 * 1024 ** 3) };
  try {
    await run(join(PEERS_DIR, 'ceph-rgw-up.sh'), [cluster, String(port), accessKey, secretKey], { env, timeout: 180_000 });
  } catch (err) {
    const log = await readFile(join(cluster, 'log', 'client.rgw.a.log'), 'utf8').catch(() => '');
    await stopCluster(cluster, dir);
    const output = err instanceof Error ? `${err.message}\n${(err as { stderr?: string }).stderr ?? ''}` : String(err);
    throw new Error(`radosgw peer failed to start on port ${port}: ${output.slice(-2000)}\n${log.slice(-2000)}`);
  }
  const killOnExit = (): void => killSync(cluster);
  process.once('exit', killOnExit);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKey,
    secretKey,
    dir: cluster,
    admin: async (...args) => (await run('radosgw-admin', ['-c', join(cluster, 'ceph.conf'), ...args], { cwd: cluster, timeout: 60_000 })).stdout,
    async stop() {
      process.removeListener('exit', killOnExit);
      shared = undefined;
      await stopCluster(cluster, dir);
    },
  };
}

function pidsOf(cluster: string): number[] {
  return PID_FILES.flatMap((name) => {
    try {
      return [Number(readFileSync(join(cluster, 'run', name), 'utf8').trim())];
    } catch {
      return [];
    }
  });
}

/** Running and not a zombie (an exited daemon may linger unreaped). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/u.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitGone(pids: readonly number[], tries: number): Promise<void> {
  for (let i = 0; i < tries && pids.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 100));
}

async function stopCluster(cluster: string, dir: string): Promise<void> {
  const pids = pidsOf(cluster);
  await run(join(PEERS_DIR, 'ceph-rgw-down.sh'), [cluster], { timeout: 30_000 }).catch(() => undefined);
  // The OSD takes seconds to shut down gracefully; its memstore holds nothing worth keeping.
  await waitGone(pids, 20);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  await waitGone(pids, 50);
  await rm(dir, { recursive: true, force: true });
}

/** Last resort when the process exits without `stop()`: an exit handler cannot wait, so kill by pid file. */
function killSync(cluster: string): void {
  for (const pid of pidsOf(cluster)) {
    try {
      process.kill(pid);
    } catch {
      // Not running any more.
    }
  }
}
