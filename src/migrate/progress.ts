/**
 * Progress of a migration as the commands show it: a bar on a terminal
 * (items, bytes, throughput, ETA, failures) or one JSON object per line
 * otherwise (or with `--json`), for scripts and logs. Both read a snapshot
 * on a timer; the migration itself only bumps counters.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from '../config/units.ts';

/** Where a migration is. */
export interface ProgressSnapshot {
  /** What is being done (`copy`, `dry-run`, `upload`, `relink`...). */
  phase: string;
  /** Items handled so far, and in all when known. */
  done: number;
  total: number | undefined;
  bytes: number;
  bytesTotal: number | undefined;
  /** Named counters (copied, present, conflicts, failed...). */
  counts: Record<string, number>;
}

/** A snapshot with the rates the output adds. */
export interface ProgressLine extends ProgressSnapshot {
  bytesPerSecond: number;
  etaSeconds: number | undefined;
  elapsedSeconds: number;
}

/** Somewhere progress goes. */
export interface ProgressOutput {
  /** Starts reading `snapshot` on a timer. */
  start(snapshot: () => ProgressSnapshot): void;
  /** A line of its own (a failure, a note), above the bar on a terminal. */
  event(e: Record<string, unknown> & { type: string }): void;
  /** Last update, then stops the timer. */
  stop(): void;
}

/** Throughput over the last seconds, not since the start: a stall shows at once. */
class Rate {
  readonly #samples: Array<{ t: number; bytes: number }> = [];
  readonly #windowMs: number;
  constructor(windowMs = 5000) {
    this.#windowMs = windowMs;
  }

  add(t: number, bytes: number): number {
    this.#samples.push({ t, bytes });
    while (this.#samples.length > 2 && (this.#samples[0]?.t ?? t) < t - this.#windowMs) this.#samples.shift();
    const first = this.#samples[0] ?? { t, bytes };
    const dt = (t - first.t) / 1000;
    return dt <= 0 ? 0 : Math.max(0, (bytes - first.bytes) / dt);
  }
}

function withRates(s: ProgressSnapshot, rate: Rate, startedAt: number): ProgressLine {
  const now = performance.now();
  const bytesPerSecond = rate.add(now, s.bytes);
  const left = s.bytesTotal === undefined ? undefined : Math.max(0, s.bytesTotal - s.bytes);
  const etaSeconds = left === undefined || bytesPerSecond <= 0 ? undefined : Math.round(left / bytesPerSecond);
  return { ...s, bytesPerSecond: Math.round(bytesPerSecond), etaSeconds, elapsedSeconds: Math.round((now - startedAt) / 100) / 10 };
}

/** JSON lines on `out`: a `progress` object every `intervalMs`, events as they come. */
export function jsonProgress(out: NodeJS.WritableStream, intervalMs = 1000): ProgressOutput {
  const rate = new Rate();
  const startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let read: (() => ProgressSnapshot) | undefined;
  const emit = (): void => {
    if (read !== undefined) out.write(`${JSON.stringify({ type: 'progress', ...withRates(read(), rate, startedAt) })}\n`);
  };
  return {
    start(snapshot) {
      read = snapshot;
      timer = setInterval(emit, intervalMs);
      timer.unref();
    },
    event: (e) => void out.write(`${JSON.stringify(e)}\n`),
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      emit();
      // A second stop (error paths) prints nothing more.
      read = undefined;
    },
  };
}


function formatEta(s: number | undefined): string {
  if (s === undefined) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}

/** A bar on a terminal (`out` must be a TTY); events are printed above it. */
export function barProgress(out: NodeJS.WriteStream, label: string): ProgressOutput {
  const rate = new Rate();
  const startedAt = performance.now();
  const bar = new cliProgress.SingleBar({
    stream: out, hideCursor: true, fps: 5, etaBuffer: 50,
    format: `${label} {bar} {percentage}% | {done}/{total} | {bytes} | {speed}/s | ETA {eta_text} | {counts}`,
  }, cliProgress.Presets.shades_classic);
  let timer: NodeJS.Timeout | undefined;
  let read: (() => ProgressSnapshot) | undefined;
  const render = (): void => {
    if (read === undefined) return;
    const l = withRates(read(), rate, startedAt);
    const total = l.bytesTotal ?? 0;
    bar.setTotal(Math.max(1, total));
    bar.update(Math.min(l.bytes, Math.max(1, total)), {
      done: l.done, total: l.total ?? '?', bytes: formatBytes(l.bytes), speed: formatBytes(l.bytesPerSecond),
      eta_text: formatEta(l.etaSeconds), counts: Object.entries(l.counts).map(([k, v]) => `${k} ${v}`).join(', '),
    });
  };
  return {
    start(snapshot) {
      read = snapshot;
      bar.start(1, 0, { done: 0, total: '?', bytes: '0 B', speed: '0 B', eta_text: '--:--', counts: '' });
      timer = setInterval(render, 200);
      timer.unref();
    },
    event(e) {
      // cli-progress redraws on the current line: clear it, print, and the next render redraws the bar.
      out.write(`\r\x1b[K${e.type}: ${Object.entries(e).filter(([k]) => k !== 'type').map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}\n`);
      render();
    },
    stop() {
      if (read === undefined) return;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      render();
      bar.stop();
      read = undefined;
    },
  };
}

/** The bar on a terminal, JSON lines otherwise or when asked. */
export function progressFor(json: boolean, label: string): ProgressOutput {
  return !json && process.stderr.isTTY === true ? barProgress(process.stderr, label) : jsonProgress(process.stdout);
}

/** Calls `fn` on the first SIGINT or SIGTERM (Ctrl-C stops a run cleanly); returns a function that stops listening. */
export function onInterrupt(fn: () => void): () => void {
  const handler = (): void => fn();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}
