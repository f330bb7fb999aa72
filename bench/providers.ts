/**
 * providers: Stowage with a cloud store as primary storage (S3 on radosgw,
 * Azure Blob on Azurite, GCS on the firebase-tools emulator) against the same
 * provider's SDK used directly on the same peer, measured in the same run.
 *
 * Per provider: 1,000 distinct ~100 KB JPEGs up through `images.bulk.upload`
 * (10 files per request, 8 requests in flight), registered with
 * `images.bulk.add`, down through `images.download` (8 in flight); then one
 * 1 GiB file up and down, streamed and sha256-checked. The anchor puts and
 * gets the same bytes with the SDK at the same concurrency. Rounds alternate
 * which side goes first. Targets: Stowage/SDK ≥ 0.9× per phase, Stowage peak
 * RSS < 256 MiB during the big transfers.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { addImages, createDataset } from './lib/api-client.ts';
import { summarizeProfiles } from './lib/cpu-profile.ts';
import { requireFreeBytes } from './lib/disk.ts';
import { envInt, envList } from './lib/env.ts';
import { makeJpegs, noisePng, tuneJpeg } from './lib/noise-images.ts';
import { resetPeakRss } from './lib/peak-rss.ts';
import { runPool } from './lib/pool.ts';
import { RssSampler, statusKb } from './lib/proc-stats.ts';
import { PROVIDER_LABELS, PROVIDERS, startPeer, type ProviderName, type ProviderPeer } from './lib/provider-peers.ts';
import { COMPARED, printTable, SampleSet, timed } from './lib/provider-samples.ts';
import { downloadHashed, downloadSmall, sha256b64, uploadBig, uploadSmall } from './lib/provider-stowage.ts';
import { rawGeneratedBody } from './lib/raw-body.ts';
import { say, target, type Benchmark, type BenchOutcome, type TargetCheck } from './lib/report.ts';
import { fmt, mib } from './lib/stats.ts';
import { cpuProfileWanted, logTail, startStowage, type StowageInstance } from './lib/stowage-process.ts';
import { benchTmpRoot, makeTempDir, removeTempDir } from './lib/temp-dir.ts';

const TARGET_RATIO = 0.9;
const TARGET_RSS = 256 * 2 ** 20;
const FILES_PER_REQUEST = 10;
const CONCURRENCY = 8;
const GiB = 2 ** 30;

interface ProvidersConfig {
  providers: ProviderName[];
  count: number;
  bigBytes: number;
  jpegBytes: number;
  smallRuns: number;
  bigRuns: number;
  small: boolean;
  big: boolean;
}

function providersConfig(): ProvidersConfig {
  const providers = envList('BENCH_PROVIDERS', PROVIDERS);
  const unknown = providers.filter((p) => !(PROVIDERS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_PROVIDERS: unknown ${unknown.join(', ')} (expected ${PROVIDERS.join(',')})`);
  const phases = envList('BENCH_PROVIDER_PHASES', ['small', 'big']);
  const runs = envInt('BENCH_PROVIDER_RUNS', 3);
  return {
    providers: providers as ProviderName[],
    count: envInt('BENCH_PROVIDER_SMALL_COUNT', 1000),
    bigBytes: envInt('BENCH_PROVIDER_BIG_BYTES', GiB),
    jpegBytes: envInt('BENCH_PROVIDER_JPEG_BYTES', 100_000),
    smallRuns: runs,
    bigRuns: envInt('BENCH_PROVIDER_BIG_RUNS', runs),
    small: phases.includes('small'),
    big: phases.includes('big'),
  };
}

/** Everything one run stores in a peer, both sides, all rounds (radosgw keeps it in RAM). */
function storedBytes(c: ProvidersConfig): number {
  const small = c.small ? c.smallRuns * c.count * c.jpegBytes * 1.1 : 0;
  const big = c.big ? c.bigRuns * c.bigBytes : 0;
  return 2 * (small + big);
}

/** Fails early when radosgw's RAM or the emulators' disk would not hold the run. */
async function checkResources(c: ProvidersConfig): Promise<number> {
  const stored = storedBytes(c);
  const memstore = Math.max(2 * GiB, Math.ceil(stored * 1.25 + GiB / 2));
  const avail = memAvailable();
  if (c.providers.includes('s3') && stored + 4 * GiB > avail) {
    throw new Error(`radosgw would keep ${mib(stored)} in RAM (+ 4 GiB for the rest) but only ${mib(avail)} is available: lower BENCH_PROVIDER_BIG_BYTES or BENCH_PROVIDER_RUNS`);
  }
  // Azurite and the GCS emulator keep objects on disk; Stowage spools each upload to DATA_PATH/tmp.
  await requireFreeBytes(benchTmpRoot(), stored + c.bigBytes + 2 * GiB, 'providers benchmark');
  say(`  ${fmt(avail / GiB, 1)} GiB RAM available; the run stores ${fmt(stored / GiB, 2)} GiB per peer (radosgw memstore cap ${fmt(memstore / GiB, 2)} GiB)`);
  return memstore;
}

/** MemAvailable in bytes (the kernel's estimate of what can be used without swapping). */
function memAvailable(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m?.[1] !== undefined) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return freemem();
}
