/**
 * links: importing a links file of 10,000 S3 links with metadata
 * (`images.links.import`, forceMetadataForLinks) against radosgw.
 *
 * 10,000 objects (cycling over 200 distinct noise JPEGs of 20–200 KB, a
 * quarter of them with 8–60 KB of EXIF before the frame header) are uploaded
 * with the S3 SDK directly. Stowage runs in this process so the connection's
 * store can be wrapped to count every byte read from the peer. The anchor is
 * the least any header reader must do: the SDK's ranged GET of the first
 * 4 KB of each object at the same concurrency, with no catalog. A re-import
 * of the same file (everything skipped) is timed too. Target: ≤ 64 KB read
 * from the peer per link on average; every row's width, height and size must
 * match the object.
 */
import { openAsBlob } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createLogger } from '../src/logger.ts';
import { IMPORT_CONCURRENCY } from '../src/services/link-import.ts';
import { createS3Store } from '../src/storage/providers/s3/index.ts';
import { countingStore, type CountingStore } from '../test/helpers/counting-store.ts';
import { startRadosgw } from '../test/helpers/peers/radosgw.ts';
import { envInt } from './lib/env.ts';
import { benchS3Client, makeCorpus, uploadCorpus, type CorpusImage } from './lib/link-corpus.ts';
import { runPool } from './lib/pool.ts';
import { say, target, type Benchmark, type BenchOutcome } from './lib/report.ts';
import { fmt, mib, seededRandom } from './lib/stats.ts';
import { makeTempDir, removeTempDir } from './lib/temp-dir.ts';

const TARGET_BYTES_PER_LINK = 64 * 1024;
const BUCKET = 'bench-links';
const PREFIX = 'img/';
const GiB = 2 ** 30;

interface Stowage {
  app: App;
  baseUrl: string;
  key: string;
  store: CountingStore;
}

async function startInProcess(dir: string, rgw: { endpoint: string; accessKey: string; secretKey: string }): Promise<Stowage> {
  const config = loadConfig({
    env: { DATA_PATH: dir, CATALOG_URL: `sqlite:${join(dir, 'catalog.sqlite')}`, PORT: '1', LOG_LEVEL: 'warn', STOWAGE_ADMIN_TOKEN: 'bench-admin-token-0123456789' },
    envFile: join(dir, 'none.env'),
  });
  const sink = new Writable({ write(_c, _e, done) { done(); } });
  const app = await createApp(config, createLogger('warn', sink));
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  const store = countingStore(createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey }));
  app.services.links.set({ name: 'bench-rgw', provider: 'minio', store, buckets: [BUCKET] });
  return { app, baseUrl: `http://127.0.0.1:${addr.port}`, key: 'bench-admin-token-0123456789', store };
}

async function api(s: Stowage, method: string, body: unknown): Promise<any> {
  const res = await fetch(`${s.baseUrl}/public/api/v3/${method}`, {
    method: 'POST', headers: { 'x-api-key': s.key, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Streams the links file to `images.links.import`; returns the report and the seconds it took. */
async function importFile(s: Stowage, datasetId: number, path: string): Promise<{ report: any; seconds: number }> {
  const form = new FormData();
  form.append('datasetId', String(datasetId));
  form.append('file', await openAsBlob(path, { type: 'text/plain' }), 'links.txt');
  const started = performance.now();
  const res = await fetch(`${s.baseUrl}/public/api/v3/images.links.import`, { method: 'POST', headers: { 'x-api-key': s.key }, body: form });
  const report = await res.json();
  if (!res.ok) throw new Error(`images.links.import: ${res.status} ${JSON.stringify(report)}`);
  return { report, seconds: (performance.now() - started) / 1000 };
}

/** Every row must carry its object's dimensions and size. */
async function verifyRows(s: Stowage, datasetId: number, corpus: CorpusImage[], count: number): Promise<void> {
  const { rows } = await s.app.services.catalog.images.list({ datasetId, limit: count });
  if (rows.length !== count) throw new Error(`expected ${count} rows, found ${rows.length}`);
  for (const row of rows) {
    const i = Number(row.name.replace(/\.jpg$/, ''));
    const img = corpus[i % corpus.length] as CorpusImage;
    if (row.width !== img.width || row.height !== img.height || row.size !== img.bytes.length || row.mime !== 'image/jpeg') {
      throw new Error(`row ${row.name}: ${row.width}x${row.height} ${row.size} B, expected ${img.width}x${img.height} ${img.bytes.length} B`);
    }
  }
}

async function anchor(client: ReturnType<typeof benchS3Client>, count: number): Promise<number> {
  const started = performance.now();
  await runPool(count, IMPORT_CONCURRENCY, async (i) => {
    const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${i}.jpg`, Range: 'bytes=0-4095' }));
    for await (const _ of res.Body as AsyncIterable<Uint8Array>) { /* drain */ }
  });
  return count / ((performance.now() - started) / 1000);
}

/** The corpus in the bucket and the links file naming every object; returns the bytes uploaded. */
async function prepare(client: ReturnType<typeof benchS3Client>, corpus: CorpusImage[], count: number, linksPath: string): Promise<number> {
  const far = corpus.filter((c) => c.sofOffset > 4096).length;
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const t0 = performance.now();
  const uploaded = await uploadCorpus(client, BUCKET, PREFIX, corpus, count, 32);
  say(`  ${count} objects (${corpus.length} distinct JPEGs, ${far} of them with the SOF past 4 KB), mean ${fmt(uploaded / count / 1000, 1)} kB, ${mib(uploaded)} uploaded with the SDK in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  await writeFile(linksPath, `# bench links\n${Array.from({ length: count }, (_, i) => `s3://${BUCKET}/${PREFIX}${i}.jpg`).join('\n')}\n`);
  return uploaded;
}

async function run(): Promise<BenchOutcome> {
  const count = envInt('BENCH_LINKS_COUNT', 10_000);
  const distinct = envInt('BENCH_LINKS_DISTINCT', 200);
  const dir = await makeTempDir('links');
  const rgw = await startRadosgw({ memstoreBytes: 4 * GiB });
  const client = benchS3Client(rgw.endpoint, rgw.accessKey, rgw.secretKey);
  let s: Stowage | undefined;
  try {
    const corpus = await makeCorpus(distinct, 0.25, seededRandom(42));
    const linksPath = join(dir, 'links.txt');
    const uploaded = await prepare(client, corpus, count, linksPath);
    const anchorRate = await anchor(client, count);
    say(`  anchor: SDK ranged GET of 4 KB per object, ${IMPORT_CONCURRENCY} in flight: ${fmt(anchorRate, 0)} objects/s`);
    s = await startInProcess(dir, rgw);
    const p = await api(s, 'projects.add', { name: 'links', workspaceId: 1, type: 'images' });
    const ds = (await api(s, 'datasets.add', { projectId: p.id, name: 'ds' })).id as number;
    s.store.reset();
    const first = await importFile(s, ds, linksPath);
    if (first.report.imported !== count || first.report.errors.length > 0) throw new Error(`import: ${JSON.stringify(first.report).slice(0, 500)}`);
    const { bytes, gets } = s.store.stats;
    await verifyRows(s, ds, corpus, count);
    say(`  Stowage: ${count} links imported with metadata in ${fmt(first.seconds, 1)} s = ${fmt(count / first.seconds, 0)} links/s; read ${mib(bytes)} from the peer = ${fmt(bytes / count / 1024, 2)} KiB and ${fmt(gets / count, 2)} gets per link`);
    const second = await importFile(s, ds, linksPath);
    if (second.report.skipped !== count) throw new Error(`re-import: ${JSON.stringify(second.report).slice(0, 500)}`);
    say(`  re-import of the same file: ${second.report.skipped} skipped, nothing added, in ${fmt(second.seconds, 2)} s (${fmt(count / second.seconds, 0)} lines/s)`);
    return outcome({ count, uploaded, bytes, gets, seconds: first.seconds, reimportSeconds: second.seconds, anchorRate });
  } finally {
    await s?.app.close();
    await s?.store.close();
    client.destroy();
    await rgw.stop();
    await removeTempDir(dir);
  }
}

interface Measured {
  count: number;
  uploaded: number;
  bytes: number;
  gets: number;
  seconds: number;
  reimportSeconds: number;
  anchorRate: number;
}

function outcome(m: Measured): BenchOutcome {
  const rate = m.count / m.seconds;
  const perLink = m.bytes / m.count;
  return {
    figures: [
      `${fmt(rate, 0)} links/s with metadata (${m.count} links, ${fmt(m.seconds, 1)} s)`,
      `${fmt(perLink / 1024, 2)} KiB and ${fmt(m.gets / m.count, 2)} gets read from the peer per link (mean object ${fmt(m.uploaded / m.count / 1024, 1)} KiB)`,
      `re-import (all skipped): ${fmt(m.count / m.reimportSeconds, 0)} lines/s`,
    ],
    ratios: [`Stowage import / SDK 4 KB ranged GETs: ${fmt(rate / m.anchorRate, 2)}x (${fmt(rate, 0)} vs ${fmt(m.anchorRate, 0)} per s)`],
    targets: [target('≤ 64 KB read per image link on average', perLink <= TARGET_BYTES_PER_LINK, `${fmt(perLink / 1024, 2)} KiB`)],
  };
}

export const linksBenchmark: Benchmark = {
  name: 'links',
  description: 'import 10,000 S3 links with metadata from a links file (radosgw): links/s and bytes read per link',
  run,
};
