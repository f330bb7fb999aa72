/**
 * serve: requests per second for stored originals at `GET /<bucket>/<key>`,
 * Stowage against nginx serving the very same files from DATA_PATH/storage.
 * Target: Stowage ≥ 0.8× nginx (median of interleaved runs).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addImages, createDataset, uploadImages, type ApiTarget } from './lib/api-client.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { envFlag, envInt } from './lib/env.ts';
import { startNginx, type NginxInstance } from './lib/nginx.ts';
import { makeJpegs, tuneJpeg } from './lib/noise-images.ts';
import { startPlainServer, type PlainServer } from './lib/plain-file-server.ts';
import { endProgress, progress, say, target, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { fmt, median, mib } from './lib/stats.ts';
import { cpuProfileWanted, logTail, startStowage, type StowageInstance } from './lib/stowage-process.ts';
import { makeTempDir, removeTempDir } from './lib/temp-dir.ts';
import { NGINX, requireTools, WRK } from './lib/tools.ts';
import { writeWrkScript, type WrkResult } from './lib/wrk.ts';
import { measureWrk } from './lib/wrk-rounds.ts';

const TARGET_RATIO = 0.8;
const UPLOAD_BATCH = 50;

interface ServeConfig {
  files: number;
  seconds: number;
  runs: number;
  connections: number;
  threads: number;
  jpegBytes: number;
  /** Also measure a minimal node:http file server (the single-process Node ceiling). */
  plainNode: boolean;
}

function serveConfig(): ServeConfig {
  return {
    files: envInt('BENCH_SERVE_FILES', 1000),
    seconds: envInt('BENCH_SERVE_SECONDS', 10),
    runs: envInt('BENCH_SERVE_RUNS', 3),
    connections: envInt('BENCH_SERVE_CONNECTIONS', 64),
    threads: envInt('BENCH_SERVE_THREADS', 2),
    jpegBytes: envInt('BENCH_SERVE_JPEG_BYTES', 100_000),
    plainNode: process.env['BENCH_SERVE_PLAIN_NODE'] === undefined || envFlag('BENCH_SERVE_PLAIN_NODE'),
  };
}

/** Uploads the JPEGs in batches and adds them to a dataset; returns their storage paths in order. */
async function uploadCorpus(api: ApiTarget, files: readonly Buffer[]): Promise<string[]> {
  const { datasetId } = await createDataset(api, `serve-bench-${Date.now()}`);
  const hashes: string[] = [];
  for (let i = 0; i < files.length; i += UPLOAD_BATCH) {
    hashes.push(...await uploadImages(api, files.slice(i, i + UPLOAD_BATCH), 'image/jpeg'));
    progress(`uploaded ${hashes.length}/${files.length}`);
  }
  endProgress();
  const infos = await addImages(api, datasetId, hashes.map((hash, i) => ({ title: `noise-${i}.jpg`, hash })));
  return infos.map((info) => info.pathOriginal);
}

/** Both servers must return the uploaded bytes for a sample of paths before any timing. */
async function verifySame(files: readonly Buffer[], paths: readonly string[], servers: Array<{ url: string; headers: Record<string, string> }>, storageRoot: string): Promise<void> {
  for (const i of [0, Math.floor(paths.length / 2), paths.length - 1]) {
    const path = paths[i] ?? '';
    const expected = files[i] ?? Buffer.alloc(0);
    const onDisk = await readFile(join(storageRoot, path));
    if (!onDisk.equals(expected)) throw new Error(`${path} on disk differs from the uploaded file`);
    for (const s of servers) {
      const res = await fetch(`${s.url}${path}`, { headers: s.headers });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || !body.equals(expected)) throw new Error(`${s.url}${path}: status ${res.status}, ${body.length} bytes, not the uploaded file`);
    }
  }
}

interface Side {
  label: string;
  url: string;
  pid: number;
  results: WrkResult[];
  cpu: number[];
}

function measure(wrkPath: string, side: Side, scriptPath: string, c: ServeConfig, seconds: number, keep: boolean): Promise<void> {
  return measureWrk(wrkPath, side, scriptPath, c, seconds, keep);
}

/** Makes the noise JPEGs, uploads them; returns the files and their storage paths. */
async function prepareCorpus(stowage: StowageInstance, c: ServeConfig): Promise<{ files: Buffer[]; paths: string[] }> {
  const recipe = await tuneJpeg(c.jpegBytes);
  const files = await makeJpegs(recipe, c.files);
  const total = files.reduce((s, f) => s + f.length, 0);
  say(`  ${c.files} noise JPEGs ${recipe.width}x${recipe.height} q${recipe.quality}, mean ${fmt(total / c.files / 1000, 1)} kB (${mib(total)})`);
  const paths = await uploadCorpus(stowage, files);
  say(`  Stowage VmHWM after the uploads: ${mib(stowage.peakRss() ?? 0)}`);
  return { files, paths };
}

/** A warm-up per side, then `runs` rounds in which every side takes its turn (drift hits all sides alike). */
async function runRounds(wrkPath: string, sides: Side[], scriptPath: string, c: ServeConfig): Promise<void> {
  say(`  wrk -t${c.threads} -c${c.connections} -d${c.seconds}s, ${c.runs} interleaved runs per side (Stowage single process; nginx worker_processes 1)`);
  for (const side of sides) await measure(wrkPath, side, scriptPath, c, 3, false);
  for (let r = 0; r < c.runs; r++) {
    for (const side of sides) await measure(wrkPath, side, scriptPath, c, c.seconds, true);
  }
}

function sideOf(label: string, server: { baseUrl: string; pid: number }): Side {
  return { label, url: server.baseUrl, pid: server.pid, results: [], cpu: [] };
}

async function runServe(): Promise<BenchOutcome> {
  const [nginxPath, wrkPath] = requireTools([NGINX, WRK]) as [string, string];
  const c = serveConfig();
  const dir = await makeTempDir('serve');
  const profileDir = cpuProfileWanted() ? join(dir, 'profiles') : undefined;
  let stowage: StowageInstance | undefined;
  let nginx: NginxInstance | undefined;
  let plain: PlainServer | undefined;
  try {
    stowage = await startStowage({ dataPath: join(dir, 'data'), ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }) });
    const { files, paths } = await prepareCorpus(stowage, c);
    const apiHeader = { 'x-api-key': stowage.apiKey };
    nginx = await startNginx(nginxPath, join(dir, 'nginx'), stowage.storageRoot, paths[0] ?? '/');
    if (c.plainNode) plain = await startPlainServer(stowage.storageRoot, stowage.apiKey);
    const sides = [sideOf('stowage', stowage), sideOf('nginx', nginx), ...(plain === undefined ? [] : [sideOf('node:http', plain)])];
    await verifySame(files, paths, sides.map((s) => ({ url: s.url, headers: s.label === 'nginx' ? {} : apiHeader })), stowage.storageRoot);
    const scriptPath = join(dir, 'paths.lua');
    // nginx ignores the x-api-key header; sending it to every side keeps the request bytes identical.
    await writeWrkScript(scriptPath, paths, apiHeader);
    await runRounds(wrkPath, sides, scriptPath, c);
    return outcome(sides, stowage.peakRss());
  } catch (err) {
    if (stowage !== undefined) say(`  server log (last lines):\n${logTail(stowage.logPath)}`);
    throw err;
  } finally {
    await plain?.stop();
    await nginx?.stop();
    await stowage?.stop();
    if (profileDir !== undefined) await summarizeProfiles(profileDir);
    await removeTempDir(dir);
  }
}

interface SideFigures { rps: number; cpu: number; p99: number }

function figuresOf(side: Side): SideFigures {
  return { rps: median(side.results.map((r) => r.rps)), cpu: median(side.cpu), p99: median(side.results.map((r) => r.p99Ms)) };
}

function describe(label: string, f: SideFigures, extra = ''): string {
  return `${`${label}:`.padEnd(10)} ${fmt(f.rps, 0)} req/s median (p99 ${fmt(f.p99, 1)} ms, server CPU ${fmt(f.cpu, 2)} cores${extra})`;
}

function outcome(sides: Side[], peakRss: number | undefined): BenchOutcome {
  const [s, n, p] = sides.map(figuresOf) as [SideFigures, SideFigures, SideFigures | undefined];
  const ratio = s.rps / n.rps;
  const figures = [
    describe('stowage', s, `, peak RSS ${peakRss === undefined ? '?' : mib(peakRss)}`),
    describe('nginx', n),
  ];
  const ratios = [`stowage/nginx = ${ratio.toFixed(2)}x`];
  if (p !== undefined) {
    figures.push(describe('node:http', p, ', minimal stat + createReadStream server'));
    ratios.push(`node:http/nginx = ${(p.rps / n.rps).toFixed(2)}x, stowage/node:http = ${(s.rps / p.rps).toFixed(2)}x`);
  }
  for (const line of [...figures, ...ratios]) say(`  ${line}`);
  return { figures, ratios, targets: [target(`stowage/nginx >= ${TARGET_RATIO}x`, ratio >= TARGET_RATIO, `${ratio.toFixed(2)}x`)] };
}

export const serveBenchmark: Benchmark = {
  name: 'serve',
  description: 'req/s of stored originals (1,000 x ~100 KB JPEG), Stowage vs nginx, wrk -c64',
  run: runServe,
};
