/**
 * load: three Stowage instances on one PostgreSQL catalog (a fresh schema)
 * and one radosgw, under BENCH_LOAD_CLIENTS concurrent clients (default 200)
 * for BENCH_LOAD_SECONDS (default 60), loopback only, stopping by itself.
 * The clients spread their requests over the instances and run a mix of
 * uploads (small JPEGs/PNGs, 2% large JPEGs of ~1.9 and ~9.9 MB), downloads,
 * byte ranges, lists and previews, checking every body (bench/lib/load-ops.ts).
 * Targets: 0 failed requests, 0 corrupt bodies. Printed: per-operation and
 * overall throughput, p50/p99 latency, the instances' peak RSS, and where the
 * CPU went (the machine's 2 cores are shared with other work).
 * Knobs: BENCH_LOAD_CLIENTS=200 BENCH_LOAD_SECONDS=60 BENCH_LOAD_PROJECTS=1
 * (the 8 datasets spread over this many projects) BENCH_LOAD_MEMSTORE_MB=2048
 * (radosgw's RAM for objects) BENCH_PG_URL (the PostgreSQL server).
 */
import { loadavg } from 'node:os';
import { envInt } from './lib/env.ts';
import { cpuLine, cpuSnapshot } from './lib/load-cpu.ts';
import { runClients, seedUploads, DEFAULT_MIX } from './lib/load-run.ts';
import { startLoadSession, type LoadSession } from './lib/load-session.ts';
import { LoadStats, problemLines, statsTable } from './lib/load-stats.ts';
import { say, target, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { fmt, mib } from './lib/stats.ts';
import { logTail } from './lib/stowage-process.ts';
import { makeTempDir, removeTempDir } from './lib/temp-dir.ts';

const INSTANCES = 3;
const SEED_UPLOADS = 48;
const DATASETS = 8;

interface LoadConfig { clients: number; seconds: number; projects: number; memstoreBytes: number }

function loadConfig(): LoadConfig {
  return {
    clients: envInt('BENCH_LOAD_CLIENTS', 200),
    seconds: envInt('BENCH_LOAD_SECONDS', 60),
    // One project, as when a team uploads into one dataset tree; more spread the catalog's per-project counters.
    projects: envInt('BENCH_LOAD_PROJECTS', 1),
    // Every upload is a new object in radosgw's RAM: a 60 s run stores a few hundred MB on this machine.
    memstoreBytes: envInt('BENCH_LOAD_MEMSTORE_MB', 2048) * 2 ** 20,
  };
}

/** The 1-minute load average, sampled every 5 s while the clients run. */
function sampleLoad(): { stop(): number[] } {
  const seen = [loadavg()[0] ?? 0];
  const timer = setInterval(() => seen.push(loadavg()[0] ?? 0), 5_000);
  return { stop: () => { clearInterval(timer); seen.push(loadavg()[0] ?? 0); return seen; } };
}

async function seed(s: LoadSession): Promise<void> {
  await seedUploads(s.ctx, SEED_UPLOADS);
  if (s.ctx.stats.failures.length > 0 || s.ctx.stats.corrupt.length > 0) throw new Error(`seeding failed:\n${problemLines(s.ctx.stats).join('\n')}`);
  s.ctx.stats = new LoadStats();
}

async function measure(s: LoadSession, c: LoadConfig): Promise<BenchOutcome> {
  const ports = s.cluster.instances.map((i) => i.port).join(', ');
  say(`  ${c.clients} clients for ${c.seconds} s, ${DATASETS} datasets in ${Math.min(c.projects, DATASETS)} project(s), instances on ports ${ports}`);
  say(`  load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const load = sampleLoad();
  const pids = s.cluster.instances.map((i) => i.pid);
  const cpuBefore = cpuSnapshot(pids, s.cluster.rgw.dir);
  const seconds = await runClients(s.ctx, { clients: c.clients, seconds: c.seconds, mix: DEFAULT_MIX, seed: 1 });
  const cpu = cpuLine(cpuBefore, cpuSnapshot(pids, s.cluster.rgw.dir), seconds);
  const loads = load.stop();
  return outcome(s, seconds, [cpu, `load average (1 min) during the run: ${fmt(Math.min(...loads), 2)}-${fmt(Math.max(...loads), 2)} on 2 cores`]);
}

/** Prints the table, the problems and the figures; checks the targets. */
function outcome(s: LoadSession, seconds: number, machine: readonly string[]): BenchOutcome {
  const st = s.ctx.stats;
  const table = statsTable(st, seconds);
  for (const line of table) say(`  ${line}`);
  for (const line of problemLines(st)) say(`  ${line}`);
  const peaks = s.cluster.instances.map((i) => i.peakRss() ?? 0);
  const figures = [
    `${fmt(st.total() / seconds, 1)} req/s over ${fmt(seconds, 1)} s, ${st.failures.length} failed attempts, ${st.failedOps} failed operations, ${st.corrupt.length} corrupt bodies`,
    `${s.ctx.registry.acked.length} uploads acknowledged (${SEED_UPLOADS} before the clients started)`,
    `instance peak RSS (VmHWM): ${peaks.map((p) => mib(p)).join(', ')}`,
    ...machine,
  ];
  for (const f of figures) say(`  ${f}`);
  return {
    figures, ratios: [],
    targets: [
      target('0 failed requests', st.failures.length === 0 && st.failedOps === 0, `${st.failures.length} failed attempts, ${st.failedOps} failed operations`),
      target('0 corrupt bodies', st.corrupt.length === 0, String(st.corrupt.length)),
    ],
  };
}

async function runLoad(): Promise<BenchOutcome> {
  const c = loadConfig();
  const dir = await makeTempDir('load');
  let s: LoadSession | undefined;
  try {
    say('  starting radosgw, a fresh PostgreSQL schema and 3 Stowage instances');
    s = await startLoadSession({ dir, instances: INSTANCES, memstoreBytes: c.memstoreBytes, datasets: DATASETS, projects: c.projects, timeoutMs: 120_000, maxAttempts: 4 });
    say(`  schema ${s.cluster.schema}; body pool ${s.ctx.pool.map((b) => `${b.width}x${b.height} ${b.format} ${fmt(b.bytes.length / 1000, 0)} kB`).join(', ')}`);
    await seed(s);
    return await measure(s, c);
  } catch (err) {
    for (const i of s?.cluster.instances ?? []) say(`  instance ${i.port} log (last lines):\n${logTail(i.logPath)}`);
    throw err;
  } finally {
    await s?.cluster.stop();
    await removeTempDir(dir);
  }
}

export const loadBenchmark: Benchmark = {
  name: 'load',
  description: '3 instances on one PostgreSQL + radosgw, 200 clients x 60 s of uploads, downloads, ranges, lists, previews; every body checked',
  run: runLoad,
};
