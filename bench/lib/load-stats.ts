/** What the load test counts: latencies and bytes per operation, failed attempts, corrupt bodies. */
import type { AttemptFailure } from './load-http.ts';
import { fmt, percentile } from './stats.ts';

/** The operations of the mix, in table order. */
export const OPS = ['upload', 'upload-large', 'add', 'download', 'download-large', 'range', 'list', 'preview'] as const;
export type OpName = (typeof OPS)[number];

/** A body that differed from what was stored (or a reply that contradicts it). */
export interface CorruptReport {
  op: OpName;
  instance: number;
  what: string;
}

interface OpFigures {
  latencies: number[];
  bytes: number;
}

/** The counters of one load run. */
export class LoadStats {
  readonly ops = new Map<OpName, OpFigures>(OPS.map((o) => [o, { latencies: [], bytes: 0 }]));
  readonly failures: AttemptFailure[] = [];
  readonly corrupt: CorruptReport[] = [];
  /** Operations that still failed after every retry. */
  failedOps = 0;
  /** Retried `bulk.add`s answered NONUNIQUE: an attempt whose reply was lost had added the image (checked by hash). */
  recoveredAdds = 0;

  /** One successful request: its latency (all attempts included) and body bytes. */
  record(op: OpName, ms: number, bytes: number): void {
    const f = this.ops.get(op);
    if (f === undefined) return;
    f.latencies.push(ms);
    f.bytes += bytes;
  }

  failure(f: AttemptFailure): void {
    this.failures.push(f);
  }

  corruptBody(c: CorruptReport): void {
    this.corrupt.push(c);
  }

  /** Successful requests in all. */
  total(): number {
    let n = 0;
    for (const f of this.ops.values()) n += f.latencies.length;
    return n;
  }
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function figuresRow(name: string, latencies: readonly number[], bytes: number, seconds: number, errors: number, corrupt: number): string {
  return row([
    name, fmt(latencies.length, 0), fmt(latencies.length / seconds, 1), fmt(bytes / seconds / 2 ** 20, 2),
    fmt(percentile(latencies, 50), 1), fmt(percentile(latencies, 99), 1), String(errors), String(corrupt),
  ]);
}

/** The per-operation and overall table (Markdown), for the console and RESULTS.md. */
export function statsTable(s: LoadStats, seconds: number): string[] {
  const lines = [
    row(['operation', 'requests', 'req/s', 'MiB/s', 'p50 ms', 'p99 ms', 'failed attempts', 'corrupt']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  const all: number[] = [];
  let bytes = 0;
  for (const [op, f] of s.ops) {
    if (f.latencies.length === 0 && !s.failures.some((x) => x.op === op)) continue;
    const errors = s.failures.filter((x) => x.op === op).length;
    lines.push(figuresRow(op, f.latencies, f.bytes, seconds, errors, s.corrupt.filter((c) => c.op === op).length));
    all.push(...f.latencies);
    bytes += f.bytes;
  }
  lines.push(figuresRow('**all**', all, bytes, seconds, s.failures.length, s.corrupt.length));
  return lines;
}

/** The first failures and corrupt bodies, one line each, for the report. */
export function problemLines(s: LoadStats, limit = 20): string[] {
  const out = s.failures.slice(0, limit).map((f) =>
    `failed ${f.op} on instance ${f.instance} (${f.kind}${f.status === undefined ? '' : ` ${f.status}`}): ${f.message}`);
  out.push(...s.corrupt.slice(0, limit).map((c) => `CORRUPT ${c.op} on instance ${c.instance}: ${c.what}`));
  return out;
}
