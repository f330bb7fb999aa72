/**
 * Kills the S3 gateway of the test's radosgw peer (SIGKILL, by its pid file)
 * and starts it again on the same port. The objects live in the OSD, which
 * keeps running: what was stored before the kill is there after it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Radosgw } from '../helpers/peers/radosgw.ts';

const run = promisify(execFile);

function gatewayPid(rgw: Radosgw): number {
  return Number(readFileSync(join(rgw.dir, 'run', 'client.rgw.a.pid'), 'utf8').trim());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/u.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the gateway; resolves once it is gone. */
export async function killGateway(rgw: Radosgw): Promise<void> {
  const pid = gatewayPid(rgw);
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Starts the gateway again, as the peer's up script does; resolves once it answers. */
export async function restartGateway(rgw: Radosgw): Promise<void> {
  await run('radosgw', ['-c', 'ceph.conf', '-n', 'client.rgw.a', '--no-mon-config', '--setuser', 'root', '--setgroup', 'root'], { cwd: rgw.dir });
  for (let i = 0; i < 240; i++) {
    if (await answers(rgw.endpoint)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('radosgw did not come back within 60 s');
}
