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
 * RSS < 256 MiB during the big upload.
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
  const bigBytes = envInt('BENCH_PROVIDER_BIG_BYTES', GiB);
  // The big file is a ~12 KB PNG plus filler.
  if (bigBytes < 2 ** 20) throw new Error(`BENCH_PROVIDER_BIG_BYTES=${bigBytes}: use at least 1 MiB (1048576)`);
  return {
    providers: providers as ProviderName[],
    count: envInt('BENCH_PROVIDER_SMALL_COUNT', 1000),
    bigBytes,
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
  // Stowage stages a large upload, then copies it to its content address: one more big object at a time.
  return 2 * (small + big) + (c.big ? c.bigBytes : 0);
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

/** The small files of every round (distinct, so Stowage's dedup never skips a store write) and their hashes. */
interface Corpus {
  rounds: Array<{ files: Buffer[]; hashes: string[] }>;
  bytesPerRound: number[];
}

async function makeCorpus(c: ProvidersConfig): Promise<Corpus> {
  const recipe = await tuneJpeg(c.jpegBytes);
  const rounds: Corpus['rounds'] = [];
  for (let r = 0; r < c.smallRuns; r++) {
    const files = await makeJpegs(recipe, c.count);
    rounds.push({ files, hashes: files.map(sha256b64) });
  }
  const bytesPerRound = rounds.map((r) => r.files.reduce((n, f) => n + f.length, 0));
  const total = bytesPerRound.reduce((a, b) => a + b, 0);
  say(`  ${c.smallRuns} x ${c.count} noise JPEGs ${recipe.width}x${recipe.height} q${recipe.quality}, mean ${fmt(total / (c.count * c.smallRuns) / 1000, 1)} kB`);
  return { rounds, bytesPerRound };
}

/** What one provider's run measured. */
interface ProviderResult {
  name: ProviderName;
  samples: SampleSet;
  /** VmRSS right after start-up. */
  idleRss: number;
  /** VmHWM at the end of the small phases (start-up included). */
  smallPeak: number | undefined;
  /** VmRSS just before the big transfers (the hot cache holds downloaded small images by then). */
  beforeBigRss: number | undefined;
  /** VmHWM over the big transfers alone (reset before them), or the whole life when the reset failed. */
  bigPeak: number | undefined;
  bigPeakIsWholeLife: boolean;
  /** Peak RSS during the big uploads / downloads (VmHWM reset before each, else sampled). */
  bigUpRss: number;
  bigDownRss: number;
  methods: { small: string; big: string };
}

const rssNow = (pid: number): number => (statusKb(pid, 'VmRSS') ?? 0) * 1024;

/** One small round through Stowage: upload, register, download; every byte checked. */
async function stowageSmall(stowage: StowageInstance, set: SampleSet, files: Buffer[], hashes: string[], bytes: number): Promise<string> {
  const { pid } = stowage;
  set.add('small-upload', 'stowage', await timed(pid, bytes, files.length, () => uploadSmall(stowage, files, hashes, FILES_PER_REQUEST, CONCURRENCY)));
  const afterUpload = rssNow(pid);
  const { datasetId } = await createDataset(stowage, `providers-${randomBytes(4).toString('hex')}`);
  let ids: number[] = [];
  set.add('small-register', 'stowage', await timed(pid, bytes, files.length, async () => {
    const infos = await addImages(stowage, datasetId, hashes.map((hash, i) => ({ title: `noise-${i}.jpg`, hash })));
    ids = infos.map((info) => info.id);
  }));
  const afterRegister = rssNow(pid);
  set.add('small-download', 'stowage', await timed(pid, bytes, files.length, () => downloadSmall(stowage, ids, hashes, CONCURRENCY)));
  return `Stowage VmRSS after upload ${mib(afterUpload)}, register ${mib(afterRegister)}, download ${mib(rssNow(pid))}`;
}

/** The same round with the SDK: put and get the same bytes, same concurrency. */
async function sdkSmall(peer: ProviderPeer, pid: number, set: SampleSet, round: number, files: Buffer[], hashes: string[], bytes: number): Promise<void> {
  const key = (i: number) => `small/r${round}/${i}.jpg`;
  set.add('small-upload', 'sdk', await timed(pid, bytes, files.length, () => runPool(files.length, CONCURRENCY, (i) => peer.anchor.putSmall(key(i), files[i] as Buffer, 'image/jpeg'))));
  set.add('small-download', 'sdk', await timed(pid, bytes, files.length, () => runPool(files.length, CONCURRENCY, async (i) => {
    const got = await peer.anchor.getHashed(key(i));
    if (got.hash !== hashes[i]) throw new Error(`SDK get ${key(i)}: sha256 ${got.hash}, expected ${hashes[i]}`);
  })));
}

/**
 * One big round through Stowage; returns the peak RSS each way: VmHWM (reset
 * before each transfer) when the kernel allows the reset, else the largest
 * VmRSS sampled every 100 ms.
 */
async function stowageBig(stowage: StowageInstance, set: SampleSet, bigBytes: number): Promise<{ up: number; down: number }> {
  const { pid } = stowage;
  const png = await noisePng();
  const sampler = new RssSampler(pid);
  let up = { bytes: 0, hash: '', expected: '' };
  sampler.start();
  const upReset = resetPeakRss(pid);
  set.add('big-upload', 'stowage', await timed(pid, bigBytes, 1, async () => { up = await uploadBig(stowage, png, bigBytes - png.length); }));
  const upRss = Math.max(sampler.stop(), upReset ? stowage.peakRss() ?? 0 : 0);
  if (up.hash !== up.expected) throw new Error(`big upload: server hash ${up.hash}, client's ${up.expected}`);
  const { datasetId } = await createDataset(stowage, `providers-big-${randomBytes(4).toString('hex')}`);
  const [info] = await addImages(stowage, datasetId, [{ title: 'big.png', hash: up.hash }]);
  if (info === undefined) throw new Error('images.bulk.add returned nothing for the big file');
  sampler.start();
  const downReset = resetPeakRss(pid);
  let down = { bytes: 0, hash: '', header: null as string | null };
  set.add('big-download', 'stowage', await timed(pid, bigBytes, 1, async () => { down = await downloadHashed(stowage, info.id); }));
  const downRss = Math.max(sampler.stop(), downReset ? stowage.peakRss() ?? 0 : 0);
  if (down.hash !== up.expected || down.bytes !== bigBytes) throw new Error(`big download: ${down.bytes} bytes, sha256 ${down.hash}; expected ${bigBytes}, ${up.expected}`);
  return { up: upRss, down: downRss };
}

async function sdkBig(peer: ProviderPeer, pid: number, set: SampleSet, round: number, bigBytes: number): Promise<void> {
  const png = await noisePng();
  const raw = rawGeneratedBody(png, bigBytes - png.length);
  const key = `big/r${round}.png`;
  set.add('big-upload', 'sdk', await timed(pid, bigBytes, 1, () => peer.anchor.putStream(key, raw.body, raw.bytes, 'image/png')));
  const expected = raw.digest();
  let got = { bytes: 0, hash: '' };
  set.add('big-download', 'sdk', await timed(pid, bigBytes, 1, async () => { got = await peer.anchor.getHashed(key); }));
  if (got.hash !== expected || got.bytes !== bigBytes) throw new Error(`SDK big get: ${got.bytes} bytes, sha256 ${got.hash}; expected ${bigBytes}, ${expected}`);
}

/** Runs `a` then `b` on even rounds, `b` then `a` on odd ones, so drift hits both sides alike. */
async function alternate(round: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<void> {
  if (round % 2 === 0) { await a(); await b(); } else { await b(); await a(); }
}

async function measureProvider(peer: ProviderPeer, stowage: StowageInstance, c: ProvidersConfig, corpus: Corpus | undefined): Promise<ProviderResult> {
  const set = new SampleSet();
  const { pid } = stowage;
  const idleRss = rssNow(pid);
  say(`  Stowage up on ${peer.label}; RSS after start-up ${mib(idleRss)}`);
  for (let r = 0; corpus !== undefined && r < c.smallRuns; r++) {
    const { files, hashes } = corpus.rounds[r] ?? { files: [], hashes: [] };
    const bytes = corpus.bytesPerRound[r] ?? 0;
    let rss = '';
    await alternate(r, async () => { rss = await stowageSmall(stowage, set, files, hashes, bytes); }, () => sdkSmall(peer, pid, set, r, files, hashes, bytes));
    say(`  small round ${r + 1}/${c.smallRuns} done; ${rss}`);
  }
  const smallPeak = corpus === undefined ? undefined : stowage.peakRss();
  let bigUpRss = 0;
  let bigDownRss = 0;
  let beforeBigRss: number | undefined;
  let reset = false;
  if (c.big) {
    reset = resetPeakRss(pid);
    beforeBigRss = rssNow(pid);
    for (let r = 0; r < c.bigRuns; r++) {
      let rss = { up: 0, down: 0 };
      await alternate(r, async () => { rss = await stowageBig(stowage, set, c.bigBytes); }, () => sdkBig(peer, pid, set, r, c.bigBytes));
      bigUpRss = Math.max(bigUpRss, rss.up);
      bigDownRss = Math.max(bigDownRss, rss.down);
      say(`  big round ${r + 1}/${c.bigRuns} done; Stowage VmRSS max during upload ${mib(rss.up)}, download ${mib(rss.down)}, now ${mib(rssNow(pid))}`);
    }
  }
  return {
    name: peer.name, samples: set, idleRss, smallPeak, beforeBigRss,
    bigPeak: c.big ? stowage.peakRss() : undefined, bigPeakIsWholeLife: !reset,
    bigUpRss, bigDownRss, methods: peer.anchor.method,
  };
}

async function runProvider(name: ProviderName, c: ProvidersConfig, corpus: Corpus | undefined, memstoreBytes: number, dir: string): Promise<ProviderResult> {
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const providerDir = join(dir, name);
  const profileDir = cpuProfileWanted() ? join(providerDir, 'profiles') : undefined;
  say(`\n  -- ${PROVIDER_LABELS[name]}: starting the peer`);
  const peer = await startPeer(name, { prefix, dir: dir, memstoreBytes });
  let stowage: StowageInstance | undefined;
  try {
    await peer.anchor.prepare();
    // BENCH_STOWAGE_NODE_OPTIONS reaches the Stowage child alone (e.g. --max-old-space-size=96 to tell live memory from garbage).
    const nodeOptions = process.env['BENCH_STOWAGE_NODE_OPTIONS'];
    const env = { ...peer.stowageEnv, ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }) };
    stowage = await startStowage({ dataPath: join(providerDir, 'data'), env, ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }) });
    return await measureProvider(peer, stowage, c, corpus);
  } catch (err) {
    if (stowage !== undefined) say(`  server log (last lines):\n${logTail(stowage.logPath)}`);
    throw err;
  } finally {
    await stowage?.stop();
    await peer.stop();
    if (profileDir !== undefined) await summarizeProfiles(profileDir).catch((err: unknown) => say(`  (no CPU profile: ${String(err)})`));
  }
}

function rssLine(r: ProviderResult): string {
  const opt = (n: number | undefined) => (n === undefined ? '-' : mib(n));
  const big = r.beforeBigRss === undefined ? '' :
    `; before the big transfers ${opt(r.beforeBigRss)}; peak RSS during big upload ${mib(r.bigUpRss)} / download ${mib(r.bigDownRss)}` +
    (r.bigPeakIsWholeLife ? ` (sampled; VmHWM reset refused, whole-life VmHWM ${opt(r.bigPeak)})` : ' (VmHWM, reset before each)');
  const small = r.smallPeak === undefined ? '' : `; VmHWM through the small phases ${mib(r.smallPeak)}`;
  return `Stowage RSS: after start-up ${mib(r.idleRss)}${small}${big}`;
}

function report(r: ProviderResult): { figures: string[]; ratios: string[]; targets: TargetCheck[] } {
  const label = PROVIDER_LABELS[r.name];
  say(`  ${label}: SDK anchor = ${r.methods.small}; ${r.methods.big}`);
  const table = printTable(r.samples);
  const rss = rssLine(r);
  say(`    ${rss}`);
  const targets: TargetCheck[] = [];
  const ratios: string[] = [];
  for (const phase of COMPARED) {
    const ratio = r.samples.ratio(phase);
    if (Number.isNaN(ratio)) continue;
    ratios.push(`${r.name} ${phase} stowage/sdk = ${ratio.toFixed(2)}x`);
    targets.push(target(`${r.name} ${phase} stowage/sdk >= ${TARGET_RATIO}x`, ratio >= TARGET_RATIO, `${ratio.toFixed(2)}x`));
  }
  if (r.bigPeak !== undefined) {
    // The issue's target is for uploads; downloads are reported (dead stream buffers wait for V8's GC: ~60-100 MiB).
    targets.push(target(`${r.name} Stowage peak RSS during the big upload < 256 MiB`, r.bigUpRss < TARGET_RSS, mib(r.bigUpRss)));
  }
  return { figures: [...table.map((l) => `${r.name} ${l}`), `${r.name} ${rss}`], ratios, targets };
}

async function runProviders(): Promise<BenchOutcome> {
  const c = providersConfig();
  say(`  providers ${c.providers.join(', ')}; small: ${c.small ? `${c.smallRuns} rounds of ${c.count} files (${FILES_PER_REQUEST} per request, ${CONCURRENCY} requests in flight)` : 'off'}; ` +
    `big: ${c.big ? `${c.bigRuns} rounds of ${mib(c.bigBytes)}` : 'off'}`);
  const memstore = await checkResources(c);
  const corpus = c.small ? await makeCorpus(c) : undefined;
  const dir = await makeTempDir('providers');
  const outcome: BenchOutcome = { figures: [], ratios: [], targets: [] };
  let failures = 0;
  try {
    for (const name of c.providers) {
      try {
        const part = report(await runProvider(name, c, corpus, memstore, dir));
        outcome.figures.push(...part.figures);
        outcome.ratios.push(...part.ratios);
        outcome.targets.push(...part.targets);
      } catch (err) {
        failures++;
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        say(`  ${name} FAILED: ${message}`);
        outcome.targets.push(target(`${name} ran`, false, (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''));
      }
    }
  } finally {
    await removeTempDir(dir);
  }
  if (failures === c.providers.length) throw new Error('every provider failed (see above)');
  return outcome;
}

export const providersBenchmark: Benchmark = {
  name: 'providers',
  description: 'Stowage on S3 (radosgw), Azure (Azurite), GCS (emulator) vs each SDK direct: 1,000 x 100 KB and 1 GiB up/down',
  run: runProviders,
};
