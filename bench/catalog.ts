/**
 * catalog: `images.list` latency over a dataset of BENCH_CATALOG_ROWS (default
 * 1,000,000) rows, for SQLite and PostgreSQL. Rows are inserted through the
 * catalog module (`createCatalog` + `images.addMany`), the listing is timed
 * through HTTP. Target: p50 < 50 ms at per_page=1000. Anchor: p50 of the
 * trivial `instance.version` over the same HTTP path.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { createCatalog } from '../src/catalog/create-catalog.ts';
import type { NewImage } from '../src/catalog/types.ts';
import { createDataset, methodUrl, type ApiTarget, type ListPage } from './lib/api-client.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { envInt, envList } from './lib/env.ts';
import { endProgress, progress, say, target, type Benchmark, type BenchOutcome, type TargetCheck } from './lib/report.ts';
import { fmt, mib, seededRandom, summarize, type LatencySummary } from './lib/stats.ts';
import { cpuProfileWanted, logTail, startStowage, type StowageInstance } from './lib/stowage-process.ts';
import { makeTempDir, removeTempDir } from './lib/temp-dir.ts';

const TARGET_P50_MS = 50;
const INSERT_BATCH = 1000;
const PER_PAGE = 1000;
const DEFAULT_PG_URL = 'postgres://root@127.0.0.1:5432/test';

type Backend = 'sqlite' | 'postgres';

interface CatalogConfig {
  rows: number;
  randomCalls: number;
  firstPageCalls: number;
  tokenPages: number;
  backends: Backend[];
  pgUrl: string;
  /** PostgreSQL: also measure after ANALYZE (BENCH_CATALOG_PG_ANALYZE=0 to skip). */
  pgAnalyze: boolean;
}

function catalogConfig(): CatalogConfig {
  const backends = envList('BENCH_CATALOG_BACKENDS', ['sqlite', 'postgres']);
  for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`BENCH_CATALOG_BACKENDS: unknown backend "${b}" (sqlite, postgres)`);
  return {
    rows: envInt('BENCH_CATALOG_ROWS', 1_000_000),
    randomCalls: envInt('BENCH_CATALOG_CALLS', 200),
    firstPageCalls: 50,
    tokenPages: 50,
    backends: backends as Backend[],
    pgUrl: process.env['BENCH_PG_URL'] ?? DEFAULT_PG_URL,
    pgAnalyze: process.env['BENCH_CATALOG_PG_ANALYZE'] !== '0',
  };
}

/** A plausible stored image row; hashes are distinct and well-formed (base64 sha256). */
function fakeRow(i: number, bucket: string): NewImage {
  const digest = createHash('sha256').update(`catalog-bench-${i}`).digest();
  const hex = digest.toString('hex');
  return {
    name: `img_${String(i).padStart(7, '0')}.jpg`,
    hash: digest.toString('base64'),
    bucket,
    storageKey: `images/original/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}.jpg`,
    mime: 'image/jpeg',
    size: 80_000 + (i % 40_000),
    width: 640 + (i % 7) * 64,
    height: 480 + (i % 5) * 48,
  };
}

/** Inserts `rows` rows through the catalog module, printing progress. */
async function insertRows(url: string, datasetId: number, rows: number): Promise<number> {
  const catalog = await createCatalog({ url });
  const started = performance.now();
  try {
    for (let i = 0; i < rows; i += INSERT_BATCH) {
      const batch = Array.from({ length: Math.min(INSERT_BATCH, rows - i) }, (_v, k) => fakeRow(i + k, 'stowage-public'));
      await catalog.images.addMany(datasetId, batch);
      const done = i + batch.length;
      if (done % 50_000 === 0 || done === rows) {
        const s = (performance.now() - started) / 1000;
        progress(`inserted ${done.toLocaleString('en-US')}/${rows.toLocaleString('en-US')} rows, ${fmt(done / s, 0)} rows/s, ${fmt(s, 0)} s`);
      }
    }
  } finally {
    endProgress();
    await catalog.close();
  }
  return (performance.now() - started) / 1000;
}

/** One timed call: until the whole reply body is in; parsing happens after the clock stops. */
async function timedCall(api: ApiTarget, method: string, body: unknown): Promise<{ ms: number; text: string }> {
  const started = performance.now();
  const res = await fetch(methodUrl(api, method), {
    method: 'POST', headers: { 'x-api-key': api.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const bytes = await res.arrayBuffer();
  const ms = performance.now() - started;
  const text = Buffer.from(bytes).toString('utf8');
  if (!res.ok) throw new Error(`${method} answered ${res.status}: ${text.slice(0, 300)}`);
  return { ms, text };
}

async function listPage(api: ApiTarget, body: Record<string, unknown>, expect: number): Promise<{ ms: number; page: ListPage; bytes: number }> {
  const { ms, text } = await timedCall(api, 'images.list', { per_page: PER_PAGE, ...body });
  const page = JSON.parse(text) as ListPage;
  if (page.entities.length !== expect) throw new Error(`images.list ${JSON.stringify(body)}: ${page.entities.length} entities, expected ${expect}`);
  return { ms, page, bytes: text.length };
}

interface ModeResult {
  mode: string;
  summary: LatencySummary;
  note?: string;
}

async function measureModes(api: ApiTarget, datasetId: number, c: CatalogConfig): Promise<ModeResult[]> {
  const pages = Math.ceil(c.rows / PER_PAGE);
  const fullOn = (page: number) => Math.min(PER_PAGE, c.rows - (page - 1) * PER_PAGE);
  for (let i = 0; i < 5; i++) {
    await timedCall(api, 'instance.version', {});
    await listPage(api, { datasetId, page: 1 }, fullOn(1));
  }
  const version: number[] = [];
  for (let i = 0; i < c.randomCalls; i++) version.push((await timedCall(api, 'instance.version', {})).ms);
  const random = seededRandom(42);
  const randomMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < c.randomCalls; i++) {
    const page = 1 + Math.floor(random() * pages);
    const r = await listPage(api, { datasetId, page }, fullOn(page));
    if (r.page.total !== c.rows) throw new Error(`images.list total ${r.page.total}, expected ${c.rows}`);
    randomMs.push(r.ms);
    bytes = Math.max(bytes, r.bytes);
  }
  const firstMs: number[] = [];
  for (let i = 0; i < c.firstPageCalls; i++) firstMs.push((await listPage(api, { datasetId, page: 1 }, fullOn(1))).ms);
  const tokenMs = await walkTokens(api, datasetId, Math.min(c.tokenPages, pages), fullOn);
  return [
    { mode: 'instance.version (anchor)', summary: summarize(version) },
    { mode: `images.list random page (1..${pages})`, summary: summarize(randomMs), note: `replies up to ${fmt(bytes / 1e6, 2)} MB` },
    { mode: 'images.list page 1', summary: summarize(firstMs) },
    { mode: `images.list token walk (${Math.min(c.tokenPages, pages)} pages)`, summary: summarize(tokenMs) },
  ];
}

/** Follows `after` tokens from the start, checking ids keep ascending. */
async function walkTokens(api: ApiTarget, datasetId: number, pages: number, fullOn: (page: number) => number): Promise<number[]> {
  const out: number[] = [];
  let after: string | null = null;
  let lastId = 0;
  for (let p = 1; p <= pages; p++) {
    const r = await listPage(api, { datasetId, pagination_mode: 'token', ...(after === null ? {} : { after }) }, fullOn(p));
    out.push(r.ms);
    const first = r.page.entities[0]?.id ?? 0;
    if (first <= lastId) throw new Error(`token page ${p} starts at id ${first}, not after ${lastId}`);
    lastId = r.page.entities.at(-1)?.id ?? lastId;
    after = r.page.after ?? null;
    if (after === null && p < pages) throw new Error(`token walk ended after ${p} pages`);
  }
  return out;
}

async function pgReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${url} (${String(err)}); install and start it (apt-get update && apt-get install -y postgresql), set BENCH_PG_URL, or run with BENCH_CATALOG_BACKENDS=sqlite`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

interface BackendResult {
  /** `sqlite`, `postgres`, or `postgres+analyze` (measured again after ANALYZE). */
  backend: string;
  rows: number;
  insertSeconds: number;
  modes: ModeResult[];
}

/**
 * Refreshes the planner statistics of the bench schema. A server with
 * autovacuum on does this by itself after a bulk load; one with it off (like
 * the test PostgreSQL here) keeps planning for an empty table.
 */
async function analyzeSchema(url: string, schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const autovacuum = (await client.query<{ autovacuum: string }>('show autovacuum')).rows[0]?.autovacuum;
    say(`  [postgres] autovacuum=${autovacuum ?? '?'}; running ANALYZE on ${schema}.images and measuring again`);
    const started = performance.now();
    await client.query(`analyze ${schema}.images, ${schema}.datasets`);
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}

async function runBackend(backend: Backend, c: CatalogConfig): Promise<BackendResult[]> {
  if (backend === 'postgres') await pgReachable(c.pgUrl);
  const dir = await makeTempDir(`catalog-${backend}`);
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const url = backend === 'sqlite' ? `sqlite:${join(dir, 'data', 'catalog.sqlite')}` : `${c.pgUrl}?schema=${schema}`;
  const profileDir = cpuProfileWanted() ? join(dir, 'profiles') : undefined;
  let stowage: StowageInstance | undefined;
  try {
    stowage = await startStowage({
      dataPath: join(dir, 'data'), env: { CATALOG_URL: url },
      ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }),
    });
    say(`  [${backend}] ${backend === 'sqlite' ? url : `schema ${schema}`}`);
    const { datasetId } = await createDataset(stowage, `catalog-bench-${backend}`);
    const insertSeconds = await insertRows(url, datasetId, c.rows);
    say(`  [${backend}] inserted ${c.rows.toLocaleString('en-US')} rows in ${fmt(insertSeconds, 1)} s (${fmt(c.rows / insertSeconds, 0)} rows/s)`);
    const modes = await measureModes(stowage, datasetId, c);
    printModes(backend, modes);
    say(`  [${backend}] server peak RSS so far ${mib(stowage.peakRss() ?? 0)}`);
    const results: BackendResult[] = [{ backend, rows: c.rows, insertSeconds, modes }];
    if (backend === 'postgres' && c.pgAnalyze) {
      results.push({ backend: 'postgres+analyze', rows: c.rows, insertSeconds, modes: await measureAfterAnalyze(stowage, datasetId, schema, c) });
    }
    return results;
  } catch (err) {
    if (stowage !== undefined) say(`  server log (last lines):\n${logTail(stowage.logPath)}`);
    throw err;
  } finally {
    await stowage?.stop();
    if (profileDir !== undefined) await summarizeProfiles(profileDir);
    if (backend === 'postgres') await dropSchema(c.pgUrl, schema).catch((err: unknown) => say(`  could not drop schema ${schema}: ${String(err)}`));
    await removeTempDir(dir);
  }
}

/** The same measurements after ANALYZE, so stale planner statistics can be told apart from Stowage's own cost. */
async function measureAfterAnalyze(api: ApiTarget, datasetId: number, schema: string, c: CatalogConfig): Promise<ModeResult[]> {
  const seconds = await analyzeSchema(c.pgUrl, schema);
  say(`  [postgres] ANALYZE took ${fmt(seconds, 1)} s`);
  const modes = await measureModes(api, datasetId, c);
  printModes('postgres+analyze', modes);
  return modes;
}

function printModes(backend: string, modes: ModeResult[]): void {
  const anchor = modes[0]?.summary.p50 ?? Number.NaN;
  for (const m of modes) {
    const s = m.summary;
    say(`  [${backend}] ${m.mode.padEnd(40)} n=${String(s.count).padStart(3)}  p50 ${fmt(s.p50, 2).padStart(7)} ms  p95 ${fmt(s.p95, 2).padStart(7)} ms  max ${fmt(s.max, 1).padStart(6)} ms  ${(s.p50 / anchor).toFixed(1)}x anchor${m.note === undefined ? '' : `  (${m.note})`}`);
  }
}

function outcome(results: BackendResult[]): BenchOutcome {
  const figures: string[] = [];
  const ratios: string[] = [];
  const targets: TargetCheck[] = [];
  for (const r of results) {
    const [anchor, ...lists] = r.modes;
    const a = anchor?.summary.p50 ?? Number.NaN;
    if (r.backend !== 'postgres+analyze') figures.push(`${r.backend}: insert ${fmt(r.rows / r.insertSeconds, 0)} rows/s through catalog.images.addMany (batches of ${INSERT_BATCH})`);
    figures.push(`${r.backend}: ${lists.map((m) => `${m.mode} p50 ${fmt(m.summary.p50, 1)} / p95 ${fmt(m.summary.p95, 1)} ms`).join('; ')}; version p50 ${fmt(a, 2)} ms`);
    ratios.push(`${r.backend}: ${lists.map((m) => `${m.mode.replace('images.list ', '')} ${(m.summary.p50 / a).toFixed(1)}x`).join(', ')} (p50 / instance.version p50)`);
    for (const m of lists) targets.push(target(`${r.backend} ${m.mode} p50 < ${TARGET_P50_MS} ms`, m.summary.p50 < TARGET_P50_MS, `${fmt(m.summary.p50, 1)} ms`));
  }
  return { figures, ratios, targets };
}

async function runCatalog(): Promise<BenchOutcome> {
  const c = catalogConfig();
  const results: BackendResult[] = [];
  for (const backend of c.backends) results.push(...await runBackend(backend, c));
  return outcome(results);
}

export const catalogBenchmark: Benchmark = {
  name: 'catalog',
  description: 'images.list p50/p95 over BENCH_CATALOG_ROWS (default 1,000,000) rows, SQLite and PostgreSQL',
  run: runCatalog,
};
