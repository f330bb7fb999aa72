/** Memory and CPU figures of a live process, read from /proc (Linux only). */
import { readFileSync } from 'node:fs';

/** A `/proc/<pid>/status` field in kB (VmHWM, VmRSS...), or undefined once the process is gone. */
export function statusKb(pid: number, field: string): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) in bytes; must be read before the process exits. */
export function peakRssBytes(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmHWM');
  return kb === undefined ? undefined : kb * 1024;
}

/** User+system CPU seconds used so far by a process (all its threads). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return ticks / 100; // USER_HZ is 100 on every Linux we run on
  } catch {
    return 0;
  }
}

/** Direct children of a process (nginx's workers under its master). */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of a process and its direct children. */
export function treeCpuSeconds(pid: number): number {
  return childPids(pid).reduce((sum, child) => sum + cpuSeconds(child), cpuSeconds(pid));
}

/**
 * Polls VmRSS so a benchmark can show the RSS while a phase runs, next to the
 * VmHWM peak (which also counts start-up and earlier phases).
 */
export class RssSampler {
  #timer: NodeJS.Timeout | undefined;
  #max = 0;
  readonly #pid: number;

  constructor(pid: number) {
    this.#pid = pid;
  }

  start(intervalMs = 100): void {
    this.#max = 0;
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  /** Stops polling; returns the largest VmRSS seen, in bytes. */
  stop(): number {
    this.#sample();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    return this.#max;
  }

  #sample(): void {
    const kb = statusKb(this.#pid, 'VmRSS');
    if (kb !== undefined) this.#max = Math.max(this.#max, kb * 1024);
  }
}
