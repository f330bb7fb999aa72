/**
 * Interleaved wrk rounds over several servers: a short warm-up per side, then
 * `runs` rounds in which every side takes its turn, the order reversed every
 * other round, so the drift of a shared, noisy machine (and any advantage of
 * going first) hits all sides alike; medians per side.
 */
import { treeCpuSeconds } from './proc-stats.ts';
import { say } from './report.ts';
import { fmt, median } from './stats.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export interface WrkLoad {
  threads: number;
  connections: number;
  seconds: number;
  runs: number;
  /** Seconds of the untimed warm-up run per side. */
  warmupSeconds: number;
}

export interface WrkSide {
  label: string;
  url: string;
  /** Server process whose CPU (with its direct children: nginx's worker) is measured. */
  pid: number;
  /** This side's own wrk script, instead of the rounds' shared one. */
  script?: string;
  results: WrkResult[];
  cpu: number[];
}

export interface WrkSideFigures {
  rps: number;
  /** Server CPU in cores (median). */
  cpu: number;
  p99: number;
}

export function wrkSide(label: string, server: { baseUrl: string; pid: number }, script?: string): WrkSide {
  return { label, url: server.baseUrl, pid: server.pid, ...(script === undefined ? {} : { script }), results: [], cpu: [] };
}

/** One wrk run against a side; any error reply or socket error fails the benchmark. */
export async function measureWrk(
  wrkPath: string, side: WrkSide, scriptPath: string, load: Pick<WrkLoad, 'threads' | 'connections'>, seconds: number, keep: boolean,
): Promise<void> {
  const cpuBefore = treeCpuSeconds(side.pid);
  const r = await runWrk(wrkPath, { url: side.url, scriptPath: side.script ?? scriptPath, threads: load.threads, connections: load.connections, seconds });
  const cpu = (treeCpuSeconds(side.pid) - cpuBefore) / r.seconds;
  if (r.statusErrors > 0 || r.socketErrors > 0) {
    throw new Error(`${side.label}: ${r.statusErrors} non-2xx replies and ${r.socketErrors} socket errors out of ${r.requests} requests`);
  }
  const tag = keep ? `run ${side.results.length + 1}` : 'warm-up';
  say(`  ${side.label.padEnd(8)} ${tag.padEnd(7)} ${fmt(r.rps, 0).padStart(8)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  ${fmt(r.bytes / r.seconds / 2 ** 20, 0)} MiB/s  server CPU ${fmt(cpu, 2)} cores`);
  if (!keep) return;
  side.results.push(r);
  side.cpu.push(cpu);
}

/** The warm-up of every side, then the timed rounds; results accumulate in the sides. `scriptPath`: for sides without their own. */
export async function runWrkRounds(wrkPath: string, sides: readonly WrkSide[], scriptPath: string, load: WrkLoad): Promise<void> {
  for (const side of sides) await measureWrk(wrkPath, side, scriptPath, load, load.warmupSeconds, false);
  for (let r = 0; r < load.runs; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) await measureWrk(wrkPath, side, scriptPath, load, load.seconds, true);
  }
}

export function wrkFigures(side: WrkSide): WrkSideFigures {
  return { rps: median(side.results.map((r) => r.rps)), cpu: median(side.cpu), p99: median(side.results.map((r) => r.p99Ms)) };
}
