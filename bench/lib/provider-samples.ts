/**
 * Timed samples of the providers benchmark (one per phase, side and round),
 * their medians, and the per-provider table with the Stowage/SDK ratios.
 */
import { cpuSeconds } from './proc-stats.ts';
import { say } from './report.ts';
import { fmt, median } from './stats.ts';

export const PHASES = ['small-upload', 'small-register', 'small-download', 'big-upload', 'big-download'] as const;
export type Phase = (typeof PHASES)[number];
export type Side = 'stowage' | 'sdk';

/** Phases with an SDK counterpart (registering is Stowage's own catalog work). */
export const COMPARED: readonly Phase[] = ['small-upload', 'small-download', 'big-upload', 'big-download'];

export interface Sample {
  ms: number;
  bytes: number;
  objects: number;
  /** CPU seconds of the Stowage process during the phase (0 for the SDK side, which does not involve it). */
  serverCpu: number;
  /** CPU seconds of the bench process (the client: fetch, or the SDK) during the phase. */
  clientCpu: number;
}

const MB = 1e6;

/** Runs `fn` and measures wall time and the CPU of both processes. */
export async function timed(serverPid: number, bytes: number, objects: number, fn: () => Promise<unknown>): Promise<Sample> {
  const server0 = cpuSeconds(serverPid);
  const client0 = process.cpuUsage();
  const started = performance.now();
  await fn();
  const ms = performance.now() - started;
  const client = process.cpuUsage(client0);
  return { ms, bytes, objects, serverCpu: cpuSeconds(serverPid) - server0, clientCpu: (client.user + client.system) / 1e6 };
}

export const mbPerSec = (s: Sample): number => s.bytes / MB / (s.ms / 1000);
export const objPerSec = (s: Sample): number => s.objects / (s.ms / 1000);

export class SampleSet {
  readonly #samples = new Map<string, Sample[]>();

  add(phase: Phase, side: Side, s: Sample): void {
    const key = `${phase}/${side}`;
    this.#samples.set(key, [...(this.#samples.get(key) ?? []), s]);
  }

  get(phase: Phase, side: Side): Sample[] {
    return this.#samples.get(`${phase}/${side}`) ?? [];
  }

  /** Median MB/s of a phase and side (NaN when not measured). */
  mbps(phase: Phase, side: Side): number {
    return median(this.get(phase, side).map(mbPerSec));
  }

  /** Stowage/SDK of the median rates (same bytes both sides, so MB/s and obj/s give the same ratio). */
  ratio(phase: Phase): number {
    return this.mbps(phase, 'stowage') / this.mbps(phase, 'sdk');
  }
}

function rate(phase: Phase, samples: Sample[]): string {
  if (samples.length === 0) return 'not run';
  const mbps = median(samples.map(mbPerSec));
  const small = phase.startsWith('small');
  const objs = `${fmt(median(samples.map(objPerSec)), 0)} obj/s`;
  const head = phase === 'small-register' ? objs : small ? `${objs} ${fmt(mbps, 1)} MB/s` : `${fmt(mbps, 1)} MB/s`;
  return `${head} (${samples.map((s) => `${fmt(s.ms / 1000, 2)}`).join(' / ')} s)`;
}

/** Cores used on average over the phase's runs. */
function cores(samples: Sample[], pick: (s: Sample) => number): string {
  const wall = samples.reduce((n, s) => n + s.ms / 1000, 0);
  return wall > 0 ? fmt(samples.reduce((n, s) => n + pick(s), 0) / wall, 2) : '-';
}

/** One line per phase: Stowage and SDK medians (and each run's seconds), the ratio, the CPU split. */
export function printTable(set: SampleSet): string[] {
  const lines: string[] = [];
  for (const phase of PHASES) {
    const st = set.get(phase, 'stowage');
    const sdk = set.get(phase, 'sdk');
    if (st.length === 0 && sdk.length === 0) continue;
    const ratio = sdk.length > 0 && st.length > 0 ? `${set.ratio(phase).toFixed(2)}x` : '';
    const perRound = sdk.length > 0 ? st.map((s, i) => (sdk[i] === undefined ? '?' : (mbPerSec(s) / mbPerSec(sdk[i])).toFixed(2))).join('/') : '';
    const line = `${phase.padEnd(15)} stowage ${rate(phase, st)}` +
      (sdk.length > 0 ? ` | sdk ${rate(phase, sdk)} | stowage/sdk ${ratio} (rounds ${perRound})` : '') +
      ` | CPU cores: server ${cores(st, (s) => s.serverCpu)}, client ${cores(st, (s) => s.clientCpu)}` +
      (sdk.length > 0 ? `; sdk client ${cores(sdk, (s) => s.clientCpu)}` : '');
    say(`    ${line}`);
    lines.push(line);
  }
  return lines;
}
