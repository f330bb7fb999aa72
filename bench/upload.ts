/**
 * upload: one large file (default 5 GiB) through `images.bulk.upload` and back
 * through `images.download`, streamed both ways, verified by sha256. Figures:
 * MB/s each way and the server's peak RSS (target < 256 MiB). Anchor: `cp` of
 * the same stored bytes on the same disk, with and without fsync (Stowage
 * fsyncs what it stores).
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { addImages, createDataset, hashesOf, methodUrl, type ApiTarget } from './lib/api-client.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { requireFreeBytes } from './lib/disk.ts';
import { envInt } from './lib/env.ts';
import { noisePng } from './lib/noise-images.ts';
import { RssSampler, statusKb } from './lib/proc-stats.ts';
import { say, target, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { runChecked } from './lib/run-command.ts';
import { fmt, mib } from './lib/stats.ts';
import { cpuProfileWanted, logTail, startStowage, type StowageInstance } from './lib/stowage-process.ts';
import { benchTmpRoot, makeTempDir, removeTempDir } from './lib/temp-dir.ts';
import { CP, requireTools } from './lib/tools.ts';
import { generatedUpload } from './lib/upload-body.ts';

const TARGET_RSS = 256 * 2 ** 20;
const MB = 1e6;

interface Transfer {
  bytes: number;
  ms: number;
  /** Largest VmRSS of the server seen while it ran. */
  rss: number;
}

const mbps = (t: { bytes: number; ms: number }) => t.bytes / MB / (t.ms / 1000);

/** Streams the generated body to `images.bulk.upload`; returns the server's hash and timings. */
async function uploadBig(api: ApiTarget, pid: number, fillerBytes: number): Promise<Transfer & { hash: string; expected: string }> {
  const upload = generatedUpload(await noisePng(), fillerBytes);
  const sampler = new RssSampler(pid);
  sampler.start();
  const started = performance.now();
  const res = await fetch(methodUrl(api, 'images.bulk.upload'), {
    method: 'POST',
    headers: { 'x-api-key': api.apiKey, 'content-type': `multipart/form-data; boundary=${upload.boundary}` },
    body: upload.body,
    duplex: 'half',
  });
  const [hash] = await hashesOf(res, 1);
  const ms = performance.now() - started;
  return { bytes: upload.fileBytes, ms, rss: sampler.stop(), hash: hash ?? '', expected: upload.digest() };
}

/** Reads `images.download` chunk by chunk into a hash; never holds the body. */
async function downloadBig(api: ApiTarget, pid: number, id: number): Promise<Transfer & { hash: string; header: string | null }> {
  const sampler = new RssSampler(pid);
  sampler.start();
  const started = performance.now();
  const res = await fetch(methodUrl(api, 'images.download'), {
    method: 'POST', headers: { 'x-api-key': api.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ id }),
  });
  if (!res.ok || res.body === null) throw new Error(`images.download answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const sha = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body) {
    sha.update(chunk);
    bytes += chunk.length;
  }
  const ms = performance.now() - started;
  return { bytes, ms, rss: sampler.stop(), hash: sha.digest('base64'), header: res.headers.get('x-content-checksum-sha256') };
}

/** The anchor: `cp` of the stored file to the same disk, then fsync of the copy. */
async function cpAnchor(cpPath: string, src: string, dir: string, bytes: number): Promise<{ cp: number; cpSync: number }> {
  const dest = join(dir, 'anchor-copy.bin');
  const copied = await runChecked(cpPath, [src, dest]);
  const synced = await runChecked('sync', [dest]);
  return { cp: bytes / MB / (copied.ms / 1000), cpSync: bytes / MB / ((copied.ms + synced.ms) / 1000) };
}

/** How fast this machine hashes in-process (the client hashes both ways, on the same 2 cores). */
function sha256Ceiling(): number {
  const buf = Buffer.alloc(1 << 20, 7);
  const sha = createHash('sha256');
  const started = performance.now();
  for (let i = 0; i < 512; i++) sha.update(buf);
  sha.digest();
  return (512 * buf.length) / MB / ((performance.now() - started) / 1000);
}

interface RoundTrip {
  up: Transfer;
  down: Transfer;
  /** The stored file on disk (the cp anchor copies it). */
  storedPath: string;
}

/** Upload, add to a dataset, download; every step checked against the client's sha256. */
async function roundTrip(stowage: StowageInstance, total: number): Promise<RoundTrip> {
  const { datasetId } = await createDataset(stowage, `upload-bench-${Date.now()}`);
  // The idle footprint, so the peak below can be read as start-up + what streaming adds.
  const startRss = (statusKb(stowage.pid, 'VmRSS') ?? 0) * 1024;
  say(`  server RSS after start-up: ${mib(startRss)} (VmHWM so far ${mib(stowage.peakRss() ?? 0)})`);
  const png = await noisePng();
  say(`  uploading ${mib(total)} (a ${png.length}-byte PNG + filler) as one chunked multipart part`);
  const up = await uploadBig(stowage, stowage.pid, Math.max(0, total - png.length));
  if (up.hash !== up.expected) throw new Error(`server hash ${up.hash} differs from the client's ${up.expected}`);
  say(`  upload:   ${fmt(mbps(up), 1)} MB/s (${fmt(up.ms / 1000, 1)} s), server RSS while uploading ≤ ${mib(up.rss)}`);
  const [info] = await addImages(stowage, datasetId, [{ title: 'big.png', hash: up.hash }]);
  if (info === undefined) throw new Error('images.bulk.add returned nothing');
  const storedPath = join(stowage.storageRoot, info.pathOriginal);
  const stored = (await stat(storedPath)).size;
  if (stored !== up.bytes) throw new Error(`stored file is ${stored} bytes, sent ${up.bytes}`);
  const down = await downloadBig(stowage, stowage.pid, info.id);
  if (down.hash !== up.expected || down.bytes !== up.bytes) throw new Error(`download: ${down.bytes} bytes, sha256 ${down.hash}; expected ${up.bytes}, ${up.expected}`);
  say(`  download: ${fmt(mbps(down), 1)} MB/s (${fmt(down.ms / 1000, 1)} s), sha256 verified${down.header === up.expected ? ' (x-content-checksum-sha256 agrees)' : ''}, server RSS while downloading ≤ ${mib(down.rss)}`);
  return { up, down, storedPath };
}

async function runUpload(): Promise<BenchOutcome> {
  const [cpPath] = requireTools([CP]) as [string];
  const total = envInt('BENCH_UPLOAD_BYTES', 5 * 2 ** 30);
  // Peak use: the server's spool file plus the stored copy, then the stored file plus the cp anchor's copy.
  await requireFreeBytes(benchTmpRoot(), 2 * total + 2 ** 30, `upload of ${mib(total)}`);
  const dir = await makeTempDir('upload');
  const profileDir = cpuProfileWanted() ? join(dir, 'profiles') : undefined;
  let stowage: StowageInstance | undefined;
  try {
    stowage = await startStowage({ dataPath: join(dir, 'data'), ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }) });
    const { up, down, storedPath } = await roundTrip(stowage, total);
    const peak = stowage.peakRss() ?? Number.NaN;
    const anchor = await cpAnchor(cpPath, storedPath, dir, up.bytes);
    return outcome(up, down, peak, anchor, sha256Ceiling());
  } catch (err) {
    if (stowage !== undefined) say(`  server log (last lines):\n${logTail(stowage.logPath)}`);
    throw err;
  } finally {
    await stowage?.stop();
    if (profileDir !== undefined) await summarizeProfiles(profileDir);
    await removeTempDir(dir);
  }
}

function outcome(up: Transfer, down: Transfer, peak: number, anchor: { cp: number; cpSync: number }, hashRate: number): BenchOutcome {
  const clientPeak = process.resourceUsage().maxRSS * 1024;
  const figures = [
    `upload ${fmt(mbps(up), 1)} MB/s, download ${fmt(mbps(down), 1)} MB/s (${mib(up.bytes)}, sha256 verified)`,
    `server peak RSS (VmHWM) ${mib(peak)}; bench client peak RSS ${mib(clientPeak)}`,
    `anchor: cp ${fmt(anchor.cp, 1)} MB/s, cp+fsync ${fmt(anchor.cpSync, 1)} MB/s; in-process sha256 ${fmt(hashRate, 0)} MB/s`,
  ];
  const ratios = [
    `upload/cp+fsync = ${(mbps(up) / anchor.cpSync).toFixed(2)}x, upload/cp = ${(mbps(up) / anchor.cp).toFixed(2)}x`,
    `download/cp = ${(mbps(down) / anchor.cp).toFixed(2)}x`,
  ];
  for (const line of [...figures, ...ratios]) say(`  ${line}`);
  return { figures, ratios, targets: [target('server peak RSS < 256 MiB', peak < TARGET_RSS, mib(peak))] };
}

export const uploadBenchmark: Benchmark = {
  name: 'upload',
  description: 'one large file (BENCH_UPLOAD_BYTES, default 5 GiB) up and down, streamed; MB/s and server peak RSS',
  run: runUpload,
};
