/**
 * cache: requests per second for originals that live in a cloud store, once
 * the caches are warm. Stowage with radosgw as primary storage serves
 * `GET /<bucket>/<key>` from its caches; the anchor is nginx with
 * `proxy_cache` in front of the same radosgw bucket (a CDN in front of the
 * bucket), serving cache hits of the very same objects. Target: Stowage ≥ 0.8×
 * nginx (medians of alternating wrk rounds, `wrk -t2 -c64`).
 *
 * Knobs: BENCH_CACHE_FILES=1000 (distinct ~100 KB noise JPEGs),
 * BENCH_CACHE_SECONDS=10 (per timed wrk run), BENCH_CACHE_RUNS=3 (rounds).
 *
 * The JPEGs go up through `images.bulk.upload` (so they exist only in
 * radosgw) and `images.bulk.add`; their `pathOriginal`s are the request paths
 * of both sides. Stowage's public bucket gets a public-read bucket policy,
 * since nginx cannot sign S3 requests. One fetch pass per side fills the
 * caches and checks every body; `cache.stats` (and nginx's cache status)
 * then show where the bytes came from, before and after the timed rounds.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { addImages, callApi, createDataset, type ApiTarget } from './lib/api-client.ts';
import { envInt } from './lib/env.ts';
import { startNginxProxyCache, type NginxInstance } from './lib/nginx.ts';
import { makeJpegs, tuneJpeg } from './lib/noise-images.ts';
import { resetPeakRss } from './lib/peak-rss.ts';
import { runPool } from './lib/pool.ts';
import { startPeer, type ProviderPeer } from './lib/provider-peers.ts';
import { sha256b64, uploadSmall } from './lib/provider-stowage.ts';
import { say, target, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { allowAnonymousReads } from './lib/s3-public-read.ts';
import { fmt, mib } from './lib/stats.ts';
import { cpuProfileWanted, logTail, startStowage, type StowageInstance } from './lib/stowage-process.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { makeTempDir, removeTempDir } from './lib/temp-dir.ts';
import { NGINX, requireTools, WRK } from './lib/tools.ts';
import { writeWrkScript } from './lib/wrk.ts';
import { runWrkRounds, wrkFigures, wrkSide, type WrkLoad, type WrkSide, type WrkSideFigures } from './lib/wrk-rounds.ts';

const TARGET_RATIO = 0.8;
const JPEG_BYTES = 100_000;
const FILES_PER_REQUEST = 10;
const UPLOAD_CONCURRENCY = 4;
const WARM_CONCURRENCY = 8;
// Objects live in radosgw's RAM; 1,000 x 100 KB plus Stowage's start-up probes fit many times over.
const MEMSTORE_BYTES = 2 * 2 ** 30;

interface CacheConfig { files: number; load: WrkLoad }

function cacheConfig(): CacheConfig {
  return {
    files: envInt('BENCH_CACHE_FILES', 1000),
    load: { threads: 2, connections: 64, seconds: envInt('BENCH_CACHE_SECONDS', 10), runs: envInt('BENCH_CACHE_RUNS', 3), warmupSeconds: 3 },
  };
}

/** A disk cache's counters as `cache.stats` returns them. */
interface DiskCacheStats { name: string; hits: number; misses: number; bytesServed: number; bytesFetched: number; entries: number; sizeBytes: number }
interface CacheStats { caches: DiskCacheStats[]; memory: { sizeBytes: number; entries: number; maxBytes: number } }

async function storageStats(api: ApiTarget): Promise<{ storage: DiskCacheStats; memory: CacheStats['memory'] }> {
  const stats = await callApi<CacheStats>(api, 'cache.stats', { tier: 'storage' });
  const storage = stats.caches.find((c) => c.name === 'storage');
  if (storage === undefined) throw new Error(`cache.stats has no storage tier: ${JSON.stringify(stats)}`);
  return { storage, memory: stats.memory };
}

/** What the storage cache did between two `cache.stats` readings, in one line. */
function storageDelta(a: DiskCacheStats, b: DiskCacheStats): string {
  return `storage cache ${b.hits - a.hits} hits, ${b.misses - a.misses} misses, ${mib(b.bytesFetched - a.bytesFetched)} fetched from radosgw`;
}

/** Makes the JPEGs, uploads them through the API into radosgw; returns the files and their storage paths. */
async function prepareCorpus(stowage: StowageInstance, count: number): Promise<{ files: Buffer[]; paths: string[] }> {
  const recipe = await tuneJpeg(JPEG_BYTES);
  const files = await makeJpegs(recipe, count);
  const total = files.reduce((s, f) => s + f.length, 0);
  say(`  ${count} noise JPEGs ${recipe.width}x${recipe.height} q${recipe.quality}, mean ${fmt(total / count / 1000, 1)} kB (${mib(total)})`);
  const hashes = files.map(sha256b64);
  await uploadSmall(stowage, files, hashes, FILES_PER_REQUEST, UPLOAD_CONCURRENCY);
  const { datasetId } = await createDataset(stowage, `cache-bench-${randomBytes(4).toString('hex')}`);
  const infos = await addImages(stowage, datasetId, hashes.map((hash, i) => ({ title: `noise-${i}.jpg`, hash })));
  say(`  uploaded through images.bulk.upload into radosgw; Stowage VmHWM so far ${mib(stowage.peakRss() ?? 0)}`);
  return { files, paths: infos.map((info) => info.pathOriginal) };
}

/**
 * GETs every path once (WARM_CONCURRENCY in flight), checks each body is the
 * uploaded file, and counts the `x-cache-status` values nginx sends.
 */
async function fetchAll(url: string, paths: readonly string[], files: readonly Buffer[], headers: Record<string, string>): Promise<Map<string, number>> {
  const statuses = new Map<string, number>();
  await runPool(paths.length, WARM_CONCURRENCY, async (i) => {
    const res = await fetch(`${url}${paths[i]}`, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || !body.equals(files[i] ?? Buffer.alloc(0))) {
      throw new Error(`${url}${paths[i]}: status ${res.status}, ${body.length} bytes, not the uploaded file`);
    }
    const status = res.headers.get('x-cache-status') ?? '-';
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  return statuses;
}

const statusLine = (m: Map<string, number>): string => [...m].map(([k, v]) => `${v} ${k}`).join(', ');

/** Fills both caches; fails unless a second nginx pass is all HITs and Stowage's memory cache holds every object. */
async function warmBoth(stowage: StowageInstance, nginx: NginxInstance, paths: readonly string[], files: readonly Buffer[]): Promise<DiskCacheStats> {
  const apiHeader = { 'x-api-key': stowage.apiKey };
  const before = await storageStats(stowage);
  await fetchAll(stowage.baseUrl, paths, files, apiHeader);
  const warm = await storageStats(stowage);
  say(`  Stowage warm pass: ${storageDelta(before.storage, warm.storage)}; memory cache ${warm.memory.entries} entries, ${mib(warm.memory.sizeBytes)} of ${mib(warm.memory.maxBytes)}`);
  if (warm.memory.entries < paths.length) say(`  note: the memory cache holds ${warm.memory.entries} of ${paths.length} objects; the rest come from the storage cache on disk`);
  const first = await fetchAll(nginx.baseUrl, paths, files, apiHeader);
  const second = await fetchAll(nginx.baseUrl, paths, files, apiHeader);
  say(`  nginx warm pass: ${statusLine(first)}; check pass: ${statusLine(second)}`);
  if (second.get('HIT') !== paths.length) throw new Error(`nginx proxy_cache: second pass was ${statusLine(second)}, expected ${paths.length} HIT`);
  return warm.storage;
}

async function startSides(nginxPath: string, dir: string, peer: ProviderPeer, stowage: StowageInstance, paths: readonly string[]): Promise<NginxInstance> {
  const endpoint = peer.stowageEnv['STORAGE_ENDPOINT'] ?? '';
  const [, bucket = '', ...key] = (paths[0] ?? '').split('/');
  await allowAnonymousReads({
    endpoint, bucket, accessKey: peer.stowageEnv['STORAGE_ACCESS_KEY'] ?? '', secretKey: peer.stowageEnv['STORAGE_SECRET_KEY'] ?? '',
  }, key.join('/'));
  if (paths.some((p) => !p.startsWith(`/${bucket}/`))) throw new Error(`not every pathOriginal is in ${bucket}`);
  say(`  ${bucket}: public-read bucket policy (s3:GetObject) for nginx, which cannot sign requests`);
  return startNginxProxyCache(nginxPath, join(dir, 'nginx'), endpoint, paths[0] ?? '/');
}

interface Measured { sides: WrkSide[]; peakRss: number | undefined; roundsPeak: number | undefined; afterRounds: string }

async function measureBoth(wrkPath: string, dir: string, stowage: StowageInstance, nginx: NginxInstance, paths: readonly string[], warm: DiskCacheStats, c: CacheConfig): Promise<Measured> {
  const scriptPath = join(dir, 'paths.lua');
  // nginx keys its cache on the URI alone; sending the key to both keeps the request bytes identical.
  await writeWrkScript(scriptPath, paths, { 'x-api-key': stowage.apiKey });
  const sides = [wrkSide('stowage', stowage), wrkSide('nginx', nginx)];
  const { load } = c;
  say(`  wrk -t${load.threads} -c${load.connections} -d${load.seconds}s, ${load.runs} alternating rounds per side after a ${load.warmupSeconds} s warm-up (Stowage single process; nginx worker_processes 1)`);
  const peakRss = stowage.peakRss();
  const reset = resetPeakRss(stowage.pid);
  await runWrkRounds(wrkPath, sides, scriptPath, load);
  const after = await storageStats(stowage);
  const afterRounds = `during the wrk runs: ${storageDelta(warm, after.storage)}, memory cache ${after.memory.entries} entries`;
  return { sides, peakRss: reset ? Math.max(peakRss ?? 0, stowage.peakRss() ?? 0) : stowage.peakRss(), roundsPeak: reset ? stowage.peakRss() : undefined, afterRounds };
}

async function runCache(): Promise<BenchOutcome> {
  const [nginxPath, wrkPath] = requireTools([NGINX, WRK]) as [string, string];
  const c = cacheConfig();
  const dir = await makeTempDir('cache');
  let peer: ProviderPeer | undefined;
  let stowage: StowageInstance | undefined;
  let nginx: NginxInstance | undefined;
  try {
    say('  starting radosgw (memstore)');
    peer = await startPeer('s3', { prefix: `bench${randomBytes(4).toString('hex')}`, dir, memstoreBytes: MEMSTORE_BYTES });
    const profileDir = cpuProfileWanted() ? join(dir, 'profiles') : undefined;
    stowage = await startStowage({ dataPath: join(dir, 'data'), env: peer.stowageEnv, ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }) });
    const { files, paths } = await prepareCorpus(stowage, c.files);
    nginx = await startSides(nginxPath, dir, peer, stowage, paths);
    const warm = await warmBoth(stowage, nginx, paths, files);
    const measured = await measureBoth(wrkPath, dir, stowage, nginx, paths, warm, c);
    if (profileDir !== undefined) {
      await stowage.stop();
      await summarizeProfiles(profileDir);
    }
    return outcome(measured);
  } catch (err) {
    if (stowage !== undefined) say(`  server log (last lines):\n${logTail(stowage.logPath)}`);
    throw err;
  } finally {
    await nginx?.stop();
    await stowage?.stop();
    await peer?.stop();
    await removeTempDir(dir);
  }
}

function describe(label: string, f: WrkSideFigures, extra: string): string {
  return `${`${label}:`.padEnd(10)} ${fmt(f.rps, 0)} req/s median (p99 ${fmt(f.p99, 1)} ms, server CPU ${fmt(f.cpu, 2)} cores${extra})`;
}

function outcome(m: Measured): BenchOutcome {
  const [s, n] = m.sides.map(wrkFigures) as [WrkSideFigures, WrkSideFigures];
  const ratio = s.rps / n.rps;
  const opt = (b: number | undefined): string => (b === undefined ? '?' : mib(b));
  const rounds = m.roundsPeak === undefined ? '' : `, ${opt(m.roundsPeak)} during the wrk runs`;
  const figures = [
    describe('stowage', s, `, peak RSS ${opt(m.peakRss)}${rounds}`),
    describe('nginx', n, ', proxy_cache hits of radosgw'),
    `stowage ${m.afterRounds}`,
  ];
  const ratios = [`stowage/nginx = ${ratio.toFixed(2)}x`];
  for (const line of [...figures, ...ratios]) say(`  ${line}`);
  return { figures, ratios, targets: [target(`stowage/nginx >= ${TARGET_RATIO}x`, ratio >= TARGET_RATIO, `${ratio.toFixed(2)}x`)] };
}

export const cacheBenchmark: Benchmark = {
  name: 'cache',
  description: 'req/s of warm-cached originals from radosgw (1,000 x ~100 KB JPEG), Stowage vs nginx proxy_cache, wrk -c64',
  run: runCache,
};
