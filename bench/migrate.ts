/**
 * migrate: `stowage migrate storage` (local disk to S3 on radosgw) against
 * `rclone copy --transfers 10 --checksum` of the same folder to the same
 * peer, in the same run.
 *
 * The local storage holds 10,000 files of 10–200 KB plus 20 files of 100 MB
 * (about 3 GB) under the content-addressed layout. rclone copies the public
 * bucket's folder into one bucket; Stowage migrates both buckets (the
 * private one is empty) into buckets of the same names, verifying every
 * object's MD5. Each tool gets its own fresh gateway that has already made
 * its first bucket and object (radosgw creates its pools then, ~5 s) and is
 * idle again. Targets: Stowage's wall time ≤ 1.0× rclone's, Stowage's peak
 * RSS < 256 MB.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { freemem } from 'node:os';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createS3Store } from '../src/storage/providers/s3/index.ts';
import { startRadosgw, type Radosgw } from '../test/helpers/peers/radosgw.ts';
import { track } from './lib/child-registry.ts';
import { requireFreeBytes } from './lib/disk.ts';
import { envInt } from './lib/env.ts';
import { cpuSeconds, peakRssBytes } from './lib/proc-stats.ts';
import { say, target, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { fmt, mib } from './lib/stats.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { cpuProfileWanted, REPO_ROOT } from './lib/stowage-process.ts';
import { makeTempDir, removeTempDir } from './lib/temp-dir.ts';
import { requireTools, type Tool } from './lib/tools.ts';

const RCLONE: Tool = { command: 'rclone', debianPackage: 'rclone' };
const TARGET_RATIO = 1.0;
const TARGET_RSS = 256 * 2 ** 20;
const PREFIX = 'bench';
const MB = 1_000_000;
const GiB = 2 ** 30;

interface Corpus {
  /** The public bucket's folder. */
  folder: string;
  files: number;
  bytes: number;
}

function contentPath(i: number, ext: string): string {
  const h = createHash('sha256').update(`bench-${i}`).digest('hex');
  return join('images', 'original', h.slice(0, 2), h.slice(2, 4), `${h}.${ext}`);
}

/** Writes `size` random-looking bytes: a random 1 MiB block, varied per MiB so no two blocks repeat. */
async function writeBig(path: string, size: number, seed: number): Promise<void> {
  const block = randomBytes(2 ** 20);
  const out = createWriteStream(path);
  for (let off = 0; off < size; off += block.length) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - off)));
    chunk.writeUInt32LE(seed, 0);
    chunk.writeUInt32LE(off / block.length, 4);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function makeCorpus(dataPath: string, small: number, big: number, bigBytes: number): Promise<Corpus> {
  const folder = join(dataPath, 'storage', `${PREFIX}-public`);
  await mkdir(join(dataPath, 'storage', `${PREFIX}-private`), { recursive: true });
  let bytes = 0;
  for (let i = 0; i < small; i++) {
    const path = join(folder, contentPath(i, 'jpg'));
    const size = 10_000 + Math.floor(Math.random() * 190_001);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, randomBytes(size));
    bytes += size;
  }
  for (let i = 0; i < big; i++) {
    const path = join(folder, contentPath(small + i, 'mp4').replace('images', 'videos'));
    await mkdir(dirname(path), { recursive: true });
    await writeBig(path, bigBytes, i);
    bytes += bigBytes;
  }
  return { folder, files: small + big, bytes };
}

/** The gateway's first bucket and object: radosgw creates its pools then, which takes seconds. */
async function warmUp(rgw: Radosgw): Promise<void> {
  const store = createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey });
  try {
    await store.ensureBucket('bench-warm-up');
    await store.put('bench-warm-up', 'warm', Readable.from([Buffer.from('warm')]), { size: 4 });
  } finally {
    await store.close();
  }
}

/** Waits until radosgw and its OSD are idle (they keep working for a while after a burst of writes). */
async function settle(rgw: Radosgw): Promise<void> {
  const busy = peerCpu(rgw);
  for (let i = 0; i < 30; i++) {
    const before = busy();
    await new Promise((r) => setTimeout(r, 1000));
    if (busy() - before < 0.05) return;
  }
}

/** Wall time, and CPU seconds of the tool and of the gateway (radosgw + OSD) during the run. */
interface Timing {
  seconds: number;
  cpu: number;
  peerCpu: number;
}

/** Samples a child's CPU seconds (they vanish with it) and the peer's, until the child exits. */
function cpuWatch(rgw: Radosgw, pid: number): () => { cpu: number; peerCpu: number } {
  const peer = peerCpu(rgw);
  const peer0 = peer();
  let cpu = 0;
  const timer = setInterval(() => { cpu = Math.max(cpu, cpuSeconds(pid)); }, 50);
  return () => {
    clearInterval(timer);
    return { cpu, peerCpu: peer() - peer0 };
  };
}

function peerCpu(rgw: Radosgw): () => number {
  const pids = ['client.rgw.a.pid', 'osd.0.pid'].map((f) => Number(readFileSync(join(rgw.dir, 'run', f), 'utf8').trim()));
  return () => pids.reduce((n, pid) => n + cpuSeconds(pid), 0);
}

async function timeRclone(rclone: string, rgw: Radosgw, folder: string): Promise<Timing> {
  const env: NodeJS.ProcessEnv = {
    ...process.env, RCLONE_CONFIG_RGW_TYPE: 's3', RCLONE_CONFIG_RGW_PROVIDER: 'Ceph', RCLONE_CONFIG_RGW_ENDPOINT: rgw.endpoint,
    RCLONE_CONFIG_RGW_ACCESS_KEY_ID: rgw.accessKey, RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY: rgw.secretKey,
  };
  // rclone 1.60 fails on plain-http endpoints when a CA bundle is set.
  delete env['AWS_CA_BUNDLE'];
  const started = performance.now();
  const child = spawn(rclone, ['copy', folder, 'rgw:rclone-public', '--transfers', '10', '--checksum'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  track(child);
  const watch = cpuWatch(rgw, child.pid ?? 0);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`rclone copy exited ${code}: ${stderr.slice(-1000)}`);
  return { seconds: (performance.now() - started) / 1000, ...watch() };
}

interface StowageRun extends Timing {
  peakRss: number;
  summary: Record<string, unknown>;
}

async function timeStowage(dataPath: string, rgw: Radosgw): Promise<StowageRun> {
  const targetEnv = join(dataPath, 'target.env');
  await writeFile(targetEnv, `STORAGE_PROVIDER=minio\nSTORAGE_ENDPOINT=${rgw.endpoint}\nSTORAGE_ACCESS_KEY=${rgw.accessKey}\nSTORAGE_SECRET_KEY=${rgw.secretKey}\n`);
  const profileDir = join(dataPath, 'profiles');
  const profile = cpuProfileWanted() ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const started = performance.now();
  const child = spawn(process.execPath, [...profile, 'bin/stowage.mjs', 'migrate', 'storage', '--target-env', targetEnv, '--json'], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', DATA_PATH: dataPath, STORAGE_BUCKET_PREFIX: PREFIX, LOG_LEVEL: 'warn' },
  });
  track(child);
  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, peakRssBytes(child.pid ?? 0) ?? 0); }, 50);
  const watch = cpuWatch(rgw, child.pid ?? 0);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const [code] = (await once(child, 'close')) as [number | null];
  clearInterval(sampler);
  const cpu = watch();
  const seconds = (performance.now() - started) / 1000;
  const summaryLine = stdout.split('\n').find((l) => l.includes('"type":"summary"'));
  if (code !== 0 || summaryLine === undefined) throw new Error(`stowage migrate storage exited ${code}: ${stderr.slice(-1000)} ${stdout.slice(-1000)}`);
  if (profile.length > 0) await summarizeProfiles(profileDir);
  return { seconds, ...cpu, peakRss, summary: JSON.parse(summaryLine) as Record<string, unknown> };
}

/**
 * Runs `fn` against a fresh gateway that has made its first bucket and
 * object and is idle: a gateway that already holds gigabytes works much
 * harder for the next writes (measured: twice the CPU for the second of two
 * 3 GB copies), so the tools never share one.
 */
async function onFreshGateway<T>(memstoreBytes: number, fn: (rgw: Radosgw) => Promise<T>): Promise<T> {
  const rgw = await startRadosgw({ memstoreBytes });
  try {
    await warmUp(rgw);
    await settle(rgw);
    return await fn(rgw);
  } finally {
    await rgw.stop();
  }
}

async function measureRclone(rclone: string, memstore: number, corpus: Corpus): Promise<Timing> {
  const r = await onFreshGateway(memstore, (rgw) => timeRclone(rclone, rgw, corpus.folder));
  say(`  rclone copy --transfers 10 --checksum: ${fmt(r.seconds, 1)} s (${fmt(corpus.bytes / MB / r.seconds, 0)} MB/s), ` +
    `CPU ${fmt(r.cpu, 1)} s (radosgw+OSD ${fmt(r.peerCpu, 1)} s)`);
  return r;
}

async function measureStowage(dir: string, memstore: number, corpus: Corpus): Promise<StowageRun> {
  const s = await onFreshGateway(memstore, (rgw) => timeStowage(dir, rgw));
  const copied = Number(s.summary['copied']);
  say(`  stowage migrate storage: ${fmt(s.seconds, 1)} s (${fmt(corpus.bytes / MB / s.seconds, 0)} MB/s), CPU ${fmt(s.cpu, 1)} s ` +
    `(radosgw+OSD ${fmt(s.peerCpu, 1)} s), peak RSS ${mib(s.peakRss)}; ` +
    `copied ${copied}, verified by MD5 ${String(s.summary['verifiedMd5'])}, failed ${String(s.summary['failed'])}`);
  if (copied !== corpus.files || Number(s.summary['failed']) !== 0) throw new Error(`stowage copied ${copied} of ${corpus.files} files`);
  return s;
}

async function run(): Promise<BenchOutcome> {
  const [rclone] = requireTools([RCLONE]);
  const small = envInt('BENCH_MIGRATE_SMALL', 10_000);
  const big = envInt('BENCH_MIGRATE_BIG', 20);
  const bigBytes = envInt('BENCH_MIGRATE_BIG_BYTES', 100 * MB);
  const total = small * 105_000 + big * bigBytes;
  const dir = await makeTempDir('migrate');
  try {
    await requireFreeBytes(dir, total * 1.2, 'the migrate corpus');
    // radosgw keeps objects in RAM.
    const memstore = Math.max(4 * GiB, Math.ceil((1.3 * total) / GiB) * GiB);
    if (memstore > freemem() * 0.9) say(`  warning: radosgw needs ~${mib(memstore)} of RAM, ${mib(freemem())} free`);
    const t0 = performance.now();
    const corpus = await makeCorpus(dir, small, big, bigBytes);
    say(`  corpus: ${small} files of 10-200 KB + ${big} of ${fmt(bigBytes / MB, 0)} MB = ${corpus.files} files, ${mib(corpus.bytes)} (written in ${fmt((performance.now() - t0) / 1000, 1)} s)`);
    const r = await measureRclone(rclone ?? 'rclone', memstore, corpus);
    const s = await measureStowage(dir, memstore, corpus);
    const ratio = s.seconds / r.seconds;
    return {
      figures: [`rclone ${fmt(r.seconds, 1)} s (CPU ${fmt(r.cpu, 1)} s), stowage ${fmt(s.seconds, 1)} s (CPU ${fmt(s.cpu, 1)} s) for ${corpus.files} files (${mib(corpus.bytes)}); stowage peak RSS ${mib(s.peakRss)}`],
      ratios: [`stowage/rclone wall time ${fmt(ratio, 2)}x`],
      targets: [
        target(`stowage time <= ${TARGET_RATIO}x rclone`, ratio <= TARGET_RATIO, `${fmt(ratio, 2)}x`),
        target('stowage peak RSS < 256 MB', s.peakRss < TARGET_RSS, mib(s.peakRss)),
      ],
    };
  } finally {
    await removeTempDir(dir);
  }
}

export const migrateBenchmark: Benchmark = {
  name: 'migrate',
  description: 'stowage migrate storage (local → radosgw) vs rclone copy --transfers 10 --checksum, 10,000 small + 20 × 100 MB files',
  run,
};
