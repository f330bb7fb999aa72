/**
 * previews: 1920×1080 JPEGs → 400 px JPEG previews (`resize:fit:400:400`, q70).
 *
 * - Cold: every URL asked for once (each run a new quality, so nothing is
 *   cached), through Stowage (one process, `npm start` flags), against the same
 *   sharp operation in this process on the same stored files, both at the same
 *   concurrency. Target: Stowage ≥ 0.9× in-process throughput. Rounds of the
 *   two sides alternate, 7 of each by default: on 2 shared cores one round of
 *   either side moves by ±10%, so the medians need that many.
 * - Warm: the previews just made, again, with wrk, against nginx serving the
 *   same previews as static files (the previews cache keeps small previews in
 *   its index, not in files of their own, so the bench writes them out). Target ≥ 0.8×.
 *
 * Needs Debian's `nginx` and `wrk` (the bench says so if they are missing).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { addImages, createDataset, uploadImages, type ApiTarget } from './lib/api-client.ts';
import { envInt } from './lib/env.ts';
import { leanGet } from './lib/lean-get.ts';
import { startNginx, type NginxInstance } from './lib/nginx.ts';
import { runPool } from './lib/pool.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { treeCpuSeconds } from './lib/proc-stats.ts';
import { endProgress, progress, say, target, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { fmt, median, mib } from './lib/stats.ts';
import { cpuProfileWanted, logTail, startStowage, type StowageInstance } from './lib/stowage-process.ts';
import { makeTempDir, removeTempDir } from './lib/temp-dir.ts';
import { NGINX, requireTools, WRK } from './lib/tools.ts';
import { writeWrkScript } from './lib/wrk.ts';
import { runWrkRounds, wrkFigures, wrkSide } from './lib/wrk-rounds.ts';

// The anchor runs sharp as Stowage does, without libvips' operation cache (src/media/convert-decode.ts):
// each original is read once, and the cache only costs time (about 4% here). Importing other
// benchmarks turned it off too, by a side effect; this says so.
sharp.cache(false);

const COLD_TARGET = 0.9;
const WARM_TARGET = 0.8;
const UPLOAD_BATCH = 10;
const SIDE = 400;

interface PreviewsConfig {
  files: number;
  runs: number;
  concurrency: number;
  seconds: number;
  connections: number;
  threads: number;
}

function previewsConfig(): PreviewsConfig {
  return {
    files: envInt('BENCH_PREVIEWS_FILES', 200),
    runs: envInt('BENCH_PREVIEWS_RUNS', 7),
    concurrency: envInt('BENCH_PREVIEWS_CONCURRENCY', 2 * availableParallelism()),
    seconds: envInt('BENCH_PREVIEWS_SECONDS', 10),
    connections: envInt('BENCH_PREVIEWS_CONNECTIONS', 64),
    threads: envInt('BENCH_PREVIEWS_THREADS', 2),
  };
}

/** A photo-like 1920×1080 JPEG: smooth random blobs (upscaled noise) plus fine grain, q85. */
async function photo(): Promise<Buffer> {
  const blobs = await sharp(Buffer.from(crypto.getRandomValues(new Uint8Array(48 * 27 * 3))), { raw: { width: 48, height: 27, channels: 3 } })
    .resize(1920, 1080, { kernel: 'cubic' }).raw().toBuffer();
  for (let i = 0; i < blobs.length; i += 7) blobs[i] = Math.min(255, (blobs[i] ?? 0) + (i % 13));
  return sharp(blobs, { raw: { width: 1920, height: 1080, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

async function uploadPhotos(api: ApiTarget, count: number): Promise<{ paths: string[]; bytes: number }> {
  const { datasetId } = await createDataset(api, `previews-bench-${Date.now()}`);
  const hashes: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i += UPLOAD_BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(UPLOAD_BATCH, count - i) }, photo));
    bytes += batch.reduce((s, b) => s + b.length, 0);
    hashes.push(...await uploadImages(api, batch, 'image/jpeg'));
    progress(`uploaded ${hashes.length}/${count}`);
  }
  endProgress();
  const infos = await addImages(api, datasetId, hashes.map((hash, i) => ({ title: `photo-${i}.jpg`, hash })));
  return { paths: infos.map((info) => info.pathOriginal), bytes };
}

const previewUrl = (path: string, quality: number) => `/previews/q/ext:jpeg/resize:fit:${SIDE}:${SIDE}:0/q:${quality}/plain${path}`;

/** Images per second of `task` over `count` items at `concurrency`. */
async function rate(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  await runPool(count, concurrency, task);
  return count / ((performance.now() - started) / 1000);
}

function fetchPreview(stowage: StowageInstance, url: string): Promise<Buffer> {
  return leanGet(stowage.baseUrl + url, { 'x-api-key': stowage.apiKey });
}

/** Both sides must make a 400×225 JPEG before anything is timed. */
async function verifySame(stowage: StowageInstance, path: string): Promise<void> {
  const local = await sharp(join(stowage.storageRoot, path)).autoOrient().resize(SIDE, SIDE, { fit: 'inside' }).jpeg({ quality: 50 }).toBuffer();
  const remote = await fetchPreview(stowage, previewUrl(path, 50));
  const [a, b] = await Promise.all([sharp(local).metadata(), sharp(remote).metadata()]);
  if (a.width !== b.width || a.height !== b.height || b.format !== 'jpeg') throw new Error(`preview ${b.width}x${b.height} ${b.format}, in-process ${a.width}x${a.height}`);
}

/** The cold phase: median images/s of each side, Stowage's median CPU, and the spread of the per-run ratios. */
interface ColdFigures {
  stowage: number;
  local: number;
  cpu: number;
  lowest: number;
  highest: number;
}

/** Interleaved cold runs. */
async function coldRuns(stowage: StowageInstance, paths: readonly string[], c: PreviewsConfig): Promise<ColdFigures> {
  const files = paths.map((p) => join(stowage.storageRoot, p));
  const s: number[] = [];
  const l: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < c.runs; r++) {
    const quality = 70 + r;
    l.push(await rate(files.length, c.concurrency, async (i) => {
      await sharp(files[i] ?? '').autoOrient().resize(SIDE, SIDE, { fit: 'inside' }).jpeg({ quality }).toBuffer();
    }));
    const cpuBefore = treeCpuSeconds(stowage.pid);
    const started = performance.now();
    s.push(await rate(paths.length, c.concurrency, async (i) => { await fetchPreview(stowage, previewUrl(paths[i] ?? '', quality)); }));
    cpu.push((treeCpuSeconds(stowage.pid) - cpuBefore) / ((performance.now() - started) / 1000));
    say(`  cold run ${r + 1}: in-process sharp ${fmt(l[r] ?? 0, 1)} img/s, Stowage ${fmt(s[r] ?? 0, 1)} img/s (server CPU ${fmt(cpu[r] ?? 0, 2)} cores)`);
  }
  const ratios = s.map((v, r) => v / (l[r] ?? Number.NaN));
  return { stowage: median(s), local: median(l), cpu: median(cpu), lowest: Math.min(...ratios), highest: Math.max(...ratios) };
}

/** Writes the previews behind `urls` (warm by now) as files `/<i>.jpg` under `root`, for nginx. */
async function previewFiles(stowage: StowageInstance, urls: readonly string[], root: string): Promise<string[]> {
  await mkdir(root, { recursive: true });
  const files = urls.map((_u, i) => `/${i}.jpg`);
  await runPool(urls.length, 8, async (i) => { await writeFile(join(root, `${i}.jpg`), await fetchPreview(stowage, urls[i] ?? '')); });
  return files;
}

async function runPreviews(): Promise<BenchOutcome> {
  const [nginxPath, wrkPath] = requireTools([NGINX, WRK]) as [string, string];
  const c = previewsConfig();
  const dir = await makeTempDir('previews');
  const profileDir = cpuProfileWanted() ? join(dir, 'profiles') : undefined;
  let stowage: StowageInstance | undefined;
  let nginx: NginxInstance | undefined;
  try {
    stowage = await startStowage({ dataPath: join(dir, 'data'), ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }) });
    const { paths, bytes } = await uploadPhotos(stowage, c.files);
    say(`  ${c.files} JPEGs 1920x1080 q85, mean ${fmt(bytes / c.files / 1000, 0)} kB; previews ${SIDE} px fit, q70+run; ${c.concurrency} requests in flight`);
    await verifySame(stowage, paths[0] ?? '');
    const cold = await coldRuns(stowage, paths, c);
    const header = { 'x-api-key': stowage.apiKey };
    const warmUrls = Array.from({ length: c.runs }, (_v, r) => paths.map((p) => previewUrl(p, 70 + r))).flat();
    const staticRoot = join(dir, 'static');
    const files = await previewFiles(stowage, warmUrls, staticRoot);
    nginx = await startNginx(nginxPath, join(dir, 'nginx'), staticRoot, files[0] ?? '/');
    await writeWrkScript(join(dir, 'stowage.lua'), warmUrls, header);
    await writeWrkScript(join(dir, 'nginx.lua'), files, header);
    say(`  warm: wrk -t${c.threads} -c${c.connections} -d${c.seconds}s over ${warmUrls.length} previews (the same previews as files for nginx)`);
    const sides = [wrkSide('stowage', stowage, join(dir, 'stowage.lua')), wrkSide('nginx', nginx, join(dir, 'nginx.lua'))];
    await runWrkRounds(wrkPath, sides, '', { ...c, warmupSeconds: 3 });
    const [sw, nw] = sides.map((side) => wrkFigures(side).rps) as [number, number];
    return outcome(cold, sw, nw, stowage.peakRss());
  } catch (err) {
    if (stowage !== undefined) say(`  server log (last lines):\n${logTail(stowage.logPath)}`);
    throw err;
  } finally {
    await nginx?.stop();
    await stowage?.stop();
    if (profileDir !== undefined) await summarizeProfiles(profileDir);
    await removeTempDir(dir);
  }
}

function outcome(cold: ColdFigures, warmStowage: number, warmNginx: number, peakRss: number | undefined): BenchOutcome {
  const coldRatio = cold.stowage / cold.local;
  const warmRatio = warmStowage / warmNginx;
  const figures = [
    `cold: Stowage ${fmt(cold.stowage, 1)} previews/s median (server CPU ${fmt(cold.cpu, 2)} cores), in-process sharp ${fmt(cold.local, 1)}/s; single runs ${cold.lowest.toFixed(2)}x-${cold.highest.toFixed(2)}x`,
    `warm: Stowage ${fmt(warmStowage, 0)} req/s median, nginx ${fmt(warmNginx, 0)} req/s; Stowage peak RSS ${peakRss === undefined ? '?' : mib(peakRss)}`,
  ];
  const ratios = [`cold stowage/in-process = ${coldRatio.toFixed(2)}x`, `warm stowage/nginx = ${warmRatio.toFixed(2)}x`];
  for (const line of [...figures, ...ratios]) say(`  ${line}`);
  return {
    figures, ratios,
    targets: [
      target(`cold previews stowage/in-process sharp >= ${COLD_TARGET}x`, coldRatio >= COLD_TARGET, `${coldRatio.toFixed(2)}x`),
      target(`warm previews stowage/nginx >= ${WARM_TARGET}x`, warmRatio >= WARM_TARGET, `${warmRatio.toFixed(2)}x`),
    ],
  };
}

export const previewsBenchmark: Benchmark = {
  name: 'previews',
  description: '1920x1080 JPEG -> 400 px previews: cold vs in-process sharp, warm vs nginx on the cache files',
  run: runPreviews,
};
