/**
 * Migrations under faults, against a real S3 peer (Ceph radosgw): a proxy
 * breaking 10% of the requests (5xx, resets, bodies cut halfway in either
 * direction), the gateway killed and restarted mid-run, and the migrator
 * itself killed with SIGKILL and started again. Every run must end with
 * every object verified, no item pointing at a missing or short object, and
 * the source unchanged.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';
import { migrateStorage } from '../../src/migrate/storage-migration.ts';
import type { BackoffOptions } from '../../src/migrate/backoff.ts';
import { FAULT_KINDS, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { makePng } from '../helpers/media-fixtures.ts';
import type { Radosgw } from '../helpers/peers/radosgw.ts';
import { withRadosgwS3 } from '../helpers/peers/radosgw-s3.ts';
import { assertSameContents, contents, fill } from './fixtures.ts';
import { download, jsonLines, runCli, seedProject, spawnCli, startInstance, waitJob, type Instance, type SeededItem } from './harness.ts';
import { killGateway, restartGateway } from './rgw-restart.ts';

const MiB = 1024 * 1024;
/** Enough attempts to ride out a gateway restart (several seconds). */
const PATIENT: BackoffOptions = { attempts: 30, minDelayMs: 100, maxDelayMs: 2000 };
const PATIENT_API = { retries: 30, retryDelayMs: 100, retryMaxDelayMs: 2000 };

let rgw: Radosgw;
let direct: S3Store;
let scratch: string;
withRadosgwS3('stowage-migrate-faults-', (p) => ({ rgw, s3: direct, scratch } = p));

async function localSource(name: string, bucket: string, count: number, big: number): Promise<LocalStore> {
  const store = createLocalStore({ root: join(scratch, name, 'storage'), tmpDir: join(scratch, name, 'tmp') });
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) objects.set(`images/original/${String(i).padStart(4, '0')}.bin`, randomBytes(5000 + ((i * 7919) % 60_000)));
  for (let i = 0; i < big; i++) objects.set(`videos/original/big-${i}.mp4`, randomBytes(40 * MiB + i));
  await fill(store, bucket, objects);
  return store;
}

/** Every item: linked to an object with exactly its bytes, or still stored here; and downloads as its bytes. */
async function assertItemsIntact(t: Instance, bucket: string, items: SeededItem[]): Promise<number> {
  let linked = 0;
  for (const item of items) {
    const info = await t.ok('images.info', { id: item.id });
    if (info.link !== null) {
      linked += 1;
      const key = String(info.link).slice(`s3://${bucket}/`.length);
      assert.equal((await direct.head(bucket, key)).size, item.bytes.length, `${info.link} is complete`);
    }
    assert.deepEqual(await download(t, 'image', item.id), item.bytes, `item ${item.id}`);
  }
  return linked;
}

describe('10% of requests broken by a fault proxy', () => {
  let proxy: FaultProxy;
  let through: S3Store;
  before(async () => {
    proxy = await startFaultProxy(rgw.endpoint, { rate: 0.1, seed: 42 });
    through = createS3Store({ endpoint: proxy.url, accessKey: rgw.accessKey, secretKey: rgw.secretKey });
  });
  after(async () => {
    await through?.close();
    await proxy?.close();
  });

  it('migrate storage: every object copied and verified', async () => {
    const bucket = `fp-${randomUUID().slice(0, 8)}`;
    const source = await localSource('proxy-storage', 'src', 300, 1);
    const before1 = await contents(source, 'src');
    const r = await migrateStorage({
      source, target: through, buckets: [{ from: 'src', to: bucket }], filter: { include: [], exclude: [] }, concurrency: 8,
      backoff: PATIENT, dryRun: false, sizeOnly: false, multipartThreshold: 8 * MiB,
    }).done;
    assert.deepEqual([r.copied, r.failed, r.verifiedMd5], [301, 0, 301], JSON.stringify(r.failures.slice(0, 3)));
    assert.ok(r.retries > 0);
    for (const kind of FAULT_KINDS) assert.ok(proxy.stats[kind] > 0, `${kind}: ${JSON.stringify(proxy.stats)}`);
    await assertSameContents(source, 'src', direct, bucket);
    assert.deepEqual(await contents(source, 'src'), before1);
  });

  it('migrate project (API job): every item re-pointed at a complete object', async () => {
    const bucket = `fpp-${randomUUID().slice(0, 8)}`;
    await direct.ensureBucket(bucket);
    const t = await startInstance({ DATA_PATH: join(scratch, 'proxy-project') });
    try {
      await t.ok('remote-storage.connections.add', {
        name: 'flaky', provider: 'minio', endpoint: proxy.url, access_key: rgw.accessKey, secret_key: rgw.secretKey, buckets: [bucket],
      });
      const pngs = await Promise.all(Array.from({ length: 80 }, (_, i) => makePng(16 + (i % 40), 12 + (i % 30), { seed: 100 + i })));
      const { projectId, items } = await seedProject(t, 'image', 'flaky', pngs, ['a', 'b']);
      const faultsBefore = proxy.stats.requests;
      const job = await waitJob(t, (await t.ok('migrations.start', { projectId, to: `s3://${bucket}/m`, concurrency: 6, ...PATIENT_API })).id);
      assert.equal(job.status, 'done', job.message);
      assert.deepEqual([job.progress.relinked, job.progress.failed], [80, 0], JSON.stringify(job.progress.failures));
      assert.ok(proxy.stats.requests > faultsBefore);
      proxy.setRate(0);
      assert.equal(await assertItemsIntact(t, bucket, items), 80);
      proxy.setRate(0.1);
    } finally {
      await t.close();
    }
  });
});

describe('the S3 gateway killed mid-run and restarted', () => {
  it('migrate storage finishes with every object verified', async () => {
    const bucket = `gk-${randomUUID().slice(0, 8)}`;
    const source = await localSource('gateway-storage', 'src', 600, 2);
    const run = migrateStorage({
      source, target: direct, buckets: [{ from: 'src', to: bucket }], filter: { include: [], exclude: [] }, concurrency: 4,
      backoff: PATIENT, dryRun: false, sizeOnly: false, multipartThreshold: 8 * MiB,
    });
    while (run.snapshot().done < 100) await new Promise((r) => setTimeout(r, 20));
    await killGateway(rgw);
    await new Promise((r) => setTimeout(r, 1000));
    await restartGateway(rgw);
    const r = await run.done;
    assert.deepEqual([r.copied, r.failed], [602, 0], JSON.stringify(r.failures.slice(0, 3)));
    assert.ok(r.retries > 0, 'the outage was ridden out by retries');
    await assertSameContents(source, 'src', direct, bucket);
  });

  it('a project job finishes; no item points at a missing or short object', async () => {
    const bucket = `gkp-${randomUUID().slice(0, 8)}`;
    await direct.ensureBucket(bucket);
    const t = await startInstance({ DATA_PATH: join(scratch, 'gateway-project') });
    try {
      await t.ok('remote-storage.connections.add', {
        name: 'rgw', provider: 'minio', endpoint: rgw.endpoint, access_key: rgw.accessKey, secret_key: rgw.secretKey, buckets: [bucket],
      });
      const pngs = await Promise.all(Array.from({ length: 40 }, (_, i) => makePng(16 + i, 12 + i, { seed: 300 + i })));
      const { projectId, items } = await seedProject(t, 'image', 'gateway', Array.from({ length: 400 }, (_, i) => pngs[i % 40] as Buffer));
      const started = await t.ok('migrations.start', { projectId, to: `s3://${bucket}/g`, concurrency: 2, ...PATIENT_API });
      await waitJob(t, started.id, (j) => j.progress.uploaded >= 50);
      await killGateway(rgw);
      await new Promise((r) => setTimeout(r, 1000));
      await restartGateway(rgw);
      const job = await waitJob(t, started.id);
      assert.deepEqual([job.status, job.progress.relinked, job.progress.failed], ['done', 400, 0], job.message);
      assert.equal(await assertItemsIntact(t, bucket, items), 400);
    } finally {
      await t.close();
    }
  });
});

describe('the migrator killed with SIGKILL and started again', () => {
  it('migrate project resumes and finishes; no item points at a missing or short object', async () => {
    const bucket = `mk-${randomUUID().slice(0, 8)}`;
    await direct.ensureBucket(bucket);
    const dataPath = join(scratch, 'killed-project');
    const env = { DATA_PATH: dataPath };
    let t = await startInstance(env);
    const pngs = await Promise.all(Array.from({ length: 40 }, (_, i) => makePng(16 + i, 12 + i, { seed: 500 + i })));
    const { projectId, items } = await seedProject(t, 'image', 'killed', Array.from({ length: 1200 }, (_, i) => pngs[i % 40] as Buffer), ['x', 'y']);
    await t.close();
    await writeFile(join(dataPath, 'remote_links.yml'), [
      'rgw:', '  provider: minio', `  endpoint: ${rgw.endpoint}`, `  access_key: ${rgw.accessKey}`, `  secret_key: ${rgw.secretKey}`,
      '  buckets:', `    - ${bucket}`, '',
    ].join('\n'));
    const args = ['migrate', 'project', String(projectId), '--to', `s3://${bucket}/k`, '--concurrency', '2', '--json', '--retry-delay', '100ms'];
    const first = spawnCli(args, env, (line, child) => {
      const p = JSON.parse(line) as { type: string; counts?: { uploaded?: number } };
      if (p.type === 'progress' && (p.counts?.uploaded ?? 0) >= 300) child.kill('SIGKILL');
    });
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL', `the run ended before it could be killed: ${killed.stdout.slice(-500)} ${killed.stderr}`);
    t = await startInstance(env);
    try {
      const midway = await assertItemsIntact(t, bucket, items);
      assert.ok(midway >= 0 && midway < 1200, `${midway} re-pointed before the kill`);
    } finally {
      await t.close();
    }
    const second = await runCli(args, env);
    assert.equal(second.code, 0, second.stderr + second.stdout.slice(-1500));
    const summary = jsonLines(second.stdout).find((l) => l['type'] === 'summary') ?? {};
    assert.deepEqual([summary['status'], summary['relinked'], summary['failed']], ['done', 1200, 0], JSON.stringify(summary).slice(0, 500));
    t = await startInstance(env);
    try {
      assert.equal(await assertItemsIntact(t, bucket, items), 1200);
    } finally {
      await t.close();
    }
  });
});
