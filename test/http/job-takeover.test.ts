/**
 * Jobs that survive the loss of their instance (issue 8): Stowage instances
 * as child processes (`bin/stowage.mjs serve`) sharing one PostgreSQL
 * catalog and one radosgw. A project migration is held mid-run by a gate
 * proxy in front of the target; its instance is then killed (SIGKILL: the
 * job is taken over after the stale time, from its last checkpoint) or shut
 * down (SIGTERM: the job is released and taken over at once). Afterwards
 * every item points to a complete, byte-identical object and the source is
 * unchanged.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startStowage, type StowageInstance } from '../../bench/lib/stowage-process.ts';
import { listAll } from '../../src/migrate/listing.ts';
import { DEFAULT_BACKOFF } from '../../src/migrate/backoff.ts';
import type { S3Store } from '../../src/storage/providers/s3/index.ts';
import { catalogBackend, dropCatalog } from '../helpers/catalogs.ts';
import { makePng } from '../helpers/media-fixtures.ts';
import type { Radosgw } from '../helpers/peers/radosgw.ts';
import { withRadosgwS3 } from '../helpers/peers/radosgw-s3.ts';
import { ADMIN_TOKEN, download, seedProject, type Instance, type SeededItem } from '../migrate/harness.ts';
import { startGateProxy, type GateProxy } from './job-gate-proxy.ts';
import { until } from '../helpers/until.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const RETRIES = { retries: 30, retryDelayMs: 100, retryMaxDelayMs: 1000 };

let rgw: Radosgw;
let direct: S3Store;
let scratch: string;
withRadosgwS3('stowage-takeover-', (p) => ({ rgw, s3: direct, scratch } = p));

/** An instance and an API client for it (the harness's helpers take the client). */
interface Node {
  proc: StowageInstance;
  api: Instance;
}

function clientOf(proc: StowageInstance): Instance {
  const call = (method: string, body: unknown = {}) => fetch(`${proc.baseUrl}/public/api/v3/${method}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_TOKEN }, body: JSON.stringify(body),
  });
  return {
    app: undefined as never, baseUrl: proc.baseUrl, call,
    ok: async (method, body) => {
      const res = await call(method, body);
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} → ${res.status}: ${text}`);
      return JSON.parse(text);
    },
    close: async () => { await proc.stop(); },
  };
}

/** `n` instances on a fresh catalog (the first migrates it; the others start together), with a connection through `proxy`. */
async function cluster(name: string, n: number, timing: Record<string, string>, proxy: GateProxy, bucket: string): Promise<{ nodes: Node[]; url: string; prefix: string }> {
  const url = catalogBackend('postgres').url();
  const prefix = `tk${randomUUID().slice(0, 8)}`;
  const env = {
    CATALOG_URL: url, STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: rgw.endpoint, STORAGE_ACCESS_KEY: rgw.accessKey, STORAGE_SECRET_KEY: rgw.secretKey,
    STORAGE_BUCKET_PREFIX: prefix, STORAGE_CREATE_BUCKETS: 'true', STOWAGE_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info', ...timing,
  };
  const start = (i: number) => startStowage({ dataPath: join(scratch, `${name}-${i}`), env });
  const procs = [await start(0)];
  procs.push(...(await Promise.all(Array.from({ length: n - 1 }, (_, i) => start(i + 1)))));
  const nodes = procs.map((proc) => ({ proc, api: clientOf(proc) }));
  await direct.ensureBucket(bucket);
  await (nodes[0] as Node).api.ok('remote-storage.connections.add', {
    name: 'rgw', provider: 'minio', endpoint: proxy.url, access_key: rgw.accessKey, secret_key: rgw.secretKey, buckets: [bucket],
  });
  // Every instance must serve the connection before it can take a job over.
  for (const node of nodes) {
    await until(async () => (JSON.stringify(await node.api.ok('remote-storage.connections.list', {})).includes('"rgw"') ? true : undefined), 'the connection everywhere', 20);
  }
  return { nodes, url, prefix };
}

/** SHA-256 of every object of a bucket, by key. */
async function bucketContents(bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of listAll(direct, bucket, '', DEFAULT_BACKOFF)) out.set(o.key, await objectSha(bucket, o.key));
  return out;
}

/** SHA-256 of one object, read straight from radosgw. */
async function objectSha(bucket: string, key: string): Promise<string> {
  const got = await direct.get(bucket, key);
  const chunks: Buffer[] = [];
  for await (const c of got.body as AsyncIterable<Buffer>) chunks.push(c);
  return sha(Buffer.concat(chunks));
}

/** Every item links to `<to>/images/<project>/<dataset>/<name>`, a complete object with its bytes; a few download through `node`. */
async function assertMigrated(node: Node, bucket: string, dir: string, projectId: number, items: SeededItem[]): Promise<void> {
  for (const item of items) {
    const info = await node.api.ok('images.info', { id: item.id });
    const key = `${dir}/images/${projectId}/${item.datasetId}/${item.name}`;
    assert.equal(info.link, `s3://${bucket}/${key}`, `item ${item.id}`);
    assert.equal(await objectSha(bucket, key), sha(item.bytes), `bytes of ${key}`);
  }
  for (const item of [items[0], items.at(-1)] as SeededItem[]) assert.deepEqual(await download(node.api, 'image', item.id), item.bytes);
}

const status = (node: Node, id: number) => node.api.ok('migrations.status', { id });

describe('a migration job whose instance goes away', () => {
  /** What each test started, stopped after all of them. */
  interface Started { nodes: Node[]; proxy: GateProxy; url?: string }
  const started: Started[] = [];
  after(async () => {
    for (const s of started) {
      for (const n of s.nodes) await n.proc.stop();
      await s.proxy.close();
      if (s.url !== undefined) await dropCatalog(s.url);
    }
  });

  it('is finished by another instance after SIGKILL, from its last checkpoint, every object verified', async () => {
    const bucket = `takeover-${randomUUID().slice(0, 8)}`;
    // The probe, the first page of 1,000 and 30 more pass; then the run stops mid-page.
    const run: Started = { nodes: [], proxy: await startGateProxy(rgw.endpoint, 1031) };
    started.push(run);
    const { proxy } = run;
    const c = await cluster('kill', 3, { JOBS_HEARTBEAT_INTERVAL: '300ms', JOBS_STALE_AFTER: '2s' }, proxy, bucket);
    Object.assign(run, { nodes: c.nodes, url: c.url });
    const [a, b, third] = c.nodes as [Node, Node, Node];
    const pngs = await Promise.all(Array.from({ length: 40 }, (_, i) => makePng(16 + i, 12 + i, { seed: i })));
    const { projectId, items } = await seedProject(a.api, 'image', 'takeover', Array.from({ length: 1100 }, (_, i) => pngs[i % 40] as Buffer), ['one', 'two']);
    const source = await bucketContents(`${c.prefix}-public`);
    const job = await a.api.ok('migrations.start', { projectId, to: `s3://${bucket}/moved`, concurrency: 8, ...RETRIES });
    await until(async () => (proxy.stats.held > 0 && (await status(b, job.id)).cursor > 0 ? true : undefined), 'the job held after its first checkpoint');
    const checkpoint = (await status(b, job.id)).cursor;
    assert.equal(checkpoint, items[999]?.id, 'the first page of 1,000 is recorded');
    assert.equal(await a.proc.kill('SIGKILL'), null);
    proxy.release();
    const done = await until(async () => {
      const j = await status(b, job.id);
      return j.status === 'running' || j.status === 'interrupted' ? undefined : j;
    }, 'the job finished by another instance');
    assert.equal(done.status, 'done', done.message);
    // Resumed from the checkpoint: the first page is not looked at twice.
    assert.deepEqual([done.progress.scanned, done.progress.candidates, done.progress.relinked, done.progress.failed], [1100, 1100, 1100, 0]);
    const logs = await Promise.all([b, third].map((n) => readFile(n.proc.logPath, 'utf8')));
    assert.equal(logs.filter((l) => l.includes('took over an abandoned job') && l.includes(`"job":${job.id},`)).length, 1, 'taken over by exactly one instance');
    await assertMigrated(third, bucket, 'moved', projectId, items);
    assert.deepEqual(await bucketContents(`${c.prefix}-public`), source, 'the source is unchanged');
  });

  it('is released on SIGTERM and taken over at once, not after the stale time', async () => {
    const bucket = `release-${randomUUID().slice(0, 8)}`;
    const run: Started = { nodes: [], proxy: await startGateProxy(rgw.endpoint, 16) };
    started.push(run);
    const { proxy } = run;
    // Heartbeat period and stale time far longer than the test: only the release explains a take-over.
    const c = await cluster('term', 2, { JOBS_HEARTBEAT_INTERVAL: '5m', JOBS_STALE_AFTER: '10m' }, proxy, bucket);
    Object.assign(run, { nodes: c.nodes, url: c.url });
    const [x, y] = c.nodes as [Node, Node];
    const pngs = await Promise.all(Array.from({ length: 10 }, (_, i) => makePng(20 + i, 10 + i, { seed: 100 + i })));
    const { projectId, items } = await seedProject(x.api, 'image', 'release', Array.from({ length: 60 }, (_, i) => pngs[i % 10] as Buffer));
    const job = await x.api.ok('migrations.start', { projectId, to: `s3://${bucket}/r`, concurrency: 4, ...RETRIES });
    await until(async () => (proxy.stats.held > 0 ? true : undefined), 'the job held mid-run');
    assert.equal(await x.proc.kill('SIGTERM'), 0, 'a clean shutdown');
    const taken = await until(async () => {
      const j = await status(y, job.id);
      return j.owner !== null && j.owner !== job.owner ? j : undefined;
    }, 'the take-over by the other instance', 30);
    assert.equal(taken.status, 'running');
    proxy.release();
    const done = await until(async () => {
      const j = await status(y, job.id);
      return j.status === 'running' ? undefined : j;
    }, 'the job done');
    assert.equal(done.status, 'done', done.message);
    assert.deepEqual([done.progress.relinked, done.progress.failed], [60, 0]);
    await assertMigrated(y, bucket, 'r', projectId, items);
  });
});
