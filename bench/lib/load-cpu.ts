/**
 * Where the CPU of a load run went: the Stowage instances, radosgw (gateway,
 * OSD, monitor), PostgreSQL (the whole server: other work on the machine uses
 * it too), this client process, and the rest of the machine (other people's
 * work on the shared cores). Linux /proc only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds } from './proc-stats.ts';

export interface CpuSnapshot {
  instances: number[];
  radosgw: number;
  postgres: number;
  client: number;
  /** All cores' busy time (user+nice+system+irq+softirq+steal), from /proc/stat. */
  machine: number;
}

const CEPH_PID_FILES = ['client.rgw.a.pid', 'osd.0.pid', 'mon.a.pid'];

function pidFromFile(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function commandOf(pid: string): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  } catch {
    return '';
  }
}

function postgresSeconds(): number {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && commandOf(p) === 'postgres').reduce((s, p) => s + cpuSeconds(Number(p)), 0);
}

function machineSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** CPU seconds used so far by each party; `rgwDir` is the radosgw helper's cluster folder. */
export function cpuSnapshot(instancePids: readonly number[], rgwDir: string): CpuSnapshot {
  const ceph = CEPH_PID_FILES.flatMap((f) => {
    const pid = pidFromFile(join(rgwDir, 'run', f));
    return pid === undefined ? [] : [pid];
  });
  const usage = process.cpuUsage();
  return {
    instances: instancePids.map(cpuSeconds),
    radosgw: ceph.reduce((s, pid) => s + cpuSeconds(pid), 0),
    postgres: postgresSeconds(),
    client: (usage.user + usage.system) / 1e6,
    machine: machineSeconds(),
  };
}

/** One line: cores used by each party between two snapshots. */
export function cpuLine(a: CpuSnapshot, b: CpuSnapshot, seconds: number): string {
  const cores = (x: number): string => (x / seconds).toFixed(2);
  const inst = b.instances.map((v, i) => v - (a.instances[i] ?? 0));
  const ours = inst.reduce((s, v) => s + v, 0) + (b.radosgw - a.radosgw) + (b.client - a.client);
  const rest = (b.machine - a.machine) - ours - (b.postgres - a.postgres);
  return `CPU in cores: instances ${inst.map(cores).join(' + ')}, radosgw ${cores(b.radosgw - a.radosgw)}, `
    + `PostgreSQL ${cores(b.postgres - a.postgres)}, load client ${cores(b.client - a.client)}, rest of the machine ${cores(Math.max(0, rest))} `
    + `(machine busy ${cores(b.machine - a.machine)} of 2)`;
}
