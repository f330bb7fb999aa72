/**
 * `npm run bench [-- NAME...]`: runs every benchmark, or the named ones, one
 * after the other (they share 2 cores, so never in parallel). Each prints its
 * figures and its ratio against an anchor measured in the same run; a summary
 * of targets closes the run. Exit code 1 when a benchmark failed to run, 0
 * otherwise (a missed target is a finding, printed as MISSED, not a crash).
 */
import { cacheBenchmark } from './cache.ts';
import { catalogBenchmark } from './catalog.ts';
import { linksBenchmark } from './links.ts';
import { loadBenchmark } from './load.ts';
import { migrateBenchmark } from './migrate.ts';
import { runCommand } from './lib/run-command.ts';
import { REPO_ROOT } from './lib/stowage-process.ts';
import { MissingToolError } from './lib/tools.ts';
import { say, printTargets, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { previewsBenchmark } from './previews.ts';
import { providersBenchmark } from './providers.ts';
import { serveBenchmark } from './serve.ts';
import { uploadBenchmark } from './upload.ts';

const ALL: readonly Benchmark[] = [serveBenchmark, uploadBenchmark, catalogBenchmark, providersBenchmark, linksBenchmark, previewsBenchmark, migrateBenchmark, cacheBenchmark, loadBenchmark];

const KNOBS = `Environment knobs:
  BENCH_SERVE_FILES=1000 BENCH_SERVE_SECONDS=10 BENCH_SERVE_RUNS=3 BENCH_SERVE_CONNECTIONS=64 BENCH_SERVE_THREADS=2
  BENCH_UPLOAD_BYTES=5368709120 (5 GiB)
  BENCH_CATALOG_ROWS=1000000 BENCH_CATALOG_CALLS=200 BENCH_CATALOG_BACKENDS=sqlite,postgres BENCH_PG_URL=postgres://root@127.0.0.1:5432/test
  BENCH_PROVIDERS=s3,azure,gcs BENCH_PROVIDER_SMALL_COUNT=1000 BENCH_PROVIDER_BIG_BYTES=1073741824 (1 GiB) BENCH_PROVIDER_RUNS=3
  BENCH_PROVIDER_BIG_RUNS (default BENCH_PROVIDER_RUNS) BENCH_PROVIDER_PHASES=small,big BENCH_PROVIDER_JPEG_BYTES=100000 BENCH_STOWAGE_NODE_OPTIONS (providers: Stowage child only)
  BENCH_LINKS_COUNT=10000 BENCH_LINKS_DISTINCT=200
  BENCH_MIGRATE_SMALL=10000 BENCH_MIGRATE_BIG=20 BENCH_MIGRATE_BIG_BYTES=100000000
  BENCH_PREVIEWS_FILES=200 BENCH_PREVIEWS_RUNS=7 BENCH_PREVIEWS_CONCURRENCY=(2 x cores) BENCH_PREVIEWS_SECONDS=10 BENCH_PREVIEWS_CONNECTIONS=64 BENCH_PREVIEWS_THREADS=2
  BENCH_CACHE_FILES=1000 BENCH_CACHE_SECONDS=10 BENCH_CACHE_RUNS=3
  BENCH_CATALOG_PG_ANALYZE=1 (also measure PostgreSQL after ANALYZE)  BENCH_SERVE_PLAIN_NODE=1 (also measure a minimal node:http file server)
  BENCH_TMPDIR (scratch disk)  BENCH_KEEP=1 (keep scratch)  BENCH_CPU_PROF=1 (server CPU profile summary)  BENCH_LOG_LEVEL=warn`;

function usage(): string {
  return `usage: npm run bench [-- NAME...]\n${ALL.map((b) => `  ${b.name.padEnd(9)} ${b.description}`).join('\n')}\n${KNOBS}`;
}

function selected(argv: readonly string[]): Benchmark[] | undefined {
  if (argv.length === 0) return [...ALL];
  const unknown = argv.filter((a) => !ALL.some((b) => b.name === a));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}\n${usage()}\n`);
    return undefined;
  }
  return ALL.filter((b) => argv.includes(b.name));
}

/** Which code was measured: the commit, and how many files under src/ differ from it. */
async function sourceState(): Promise<string> {
  try {
    const head = await runCommand('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT });
    const dirty = await runCommand('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT });
    const changed = dirty.stdout.split('\n').filter((l) => l.trim() !== '').length;
    return `commit ${head.stdout.trim() || '?'}${changed > 0 ? ` + ${changed} uncommitted file(s) under src/` : ''}`;
  } catch {
    return 'commit unknown (no git)';
  }
}

type Ran = { name: string; outcome: BenchOutcome } | { name: string; error: string };

async function runOne(b: Benchmark): Promise<Ran> {
  say(`\n== ${b.name}: ${b.description}`);
  const started = performance.now();
  try {
    const outcome = await b.run();
    printTargets(outcome.targets);
    say(`  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    return { name: b.name, outcome };
  } catch (err) {
    const message = err instanceof MissingToolError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    say(`  ${b.name} FAILED: ${message}`);
    return { name: b.name, error: err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err) };
  }
}

function printSummary(ran: readonly Ran[]): void {
  say('\n== summary');
  for (const r of ran) {
    if ('error' in r) {
      say(`  ${r.name}: FAILED (${r.error})`);
      continue;
    }
    for (const line of r.outcome.figures) say(`  ${r.name}: ${line}`);
    for (const line of r.outcome.ratios) say(`  ${r.name}: ratio ${line}`);
    for (const t of r.outcome.targets) say(`  ${r.name}: ${t.met ? 'MET   ' : 'MISSED'} ${t.label} (${t.measured})`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    say(usage());
    return 0;
  }
  const benches = selected(argv);
  if (benches === undefined) return 2;
  say(`stowage bench, ${new Date().toISOString()}, node ${process.version}, ${await sourceState()}`);
  const ran: Ran[] = [];
  for (const b of benches) ran.push(await runOne(b));
  printSummary(ran);
  return ran.some((r) => 'error' in r) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
