/**
 * Several Stowage instances on one PostgreSQL catalog and one object store
 * (radosgw): any instance serves any request, settings changes reach every
 * instance through LISTEN/NOTIFY, and local disk is not split by accident.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { announceChange } from '../../src/catalog/change-feed.ts';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { createS3Store } from '../../src/storage/providers/s3/index.ts';
import { assertSameContents, fill, sampleObjects } from '../migrate/fixtures.ts';
import { startGateProxy } from './job-gate-proxy.ts';
import { until } from '../helpers/until.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

const ADMIN = `admin-${randomBytes(16).toString('hex')}`;

describe('three instances on one PostgreSQL catalog and one radosgw', () => {
  let apps: TestApp[] = [];
  let url: string;
  let rgw: Radosgw;
  before(async () => {
    rgw = await startRadosgw();
    url = catalogBackend('postgres').url();
    const env = {
      STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: rgw.endpoint, STORAGE_ACCESS_KEY: rgw.accessKey, STORAGE_SECRET_KEY: rgw.secretKey,
      STORAGE_BUCKET_PREFIX: `so${randomBytes(4).toString('hex')}`, STORAGE_CREATE_BUCKETS: 'true', STOWAGE_ADMIN_TOKEN: ADMIN,
      JOBS_HEARTBEAT_INTERVAL: '200ms', JOBS_STALE_AFTER: '5s',
    };
    // Started together: one migrates the fresh catalog under the advisory lock, the others wait.
    apps = await Promise.all([0, 1, 2].map(() => startTestApp(url, env)));
  });
  after(async () => { for (const t of apps) await t.close(); });
  const at = (i: number) => apps[i] as TestApp;

  it('serves through one instance what was uploaded through another, at once', async () => {
    const jpeg = await makeJpeg(40, 30, { seed: 77 });
    const up = await fetch(`${at(0).baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': ADMIN }, body: uploadForm([jpeg]) });
    assert.equal(up.status, 200);
    const p = await at(1).ok('projects.add', { name: 'shared', workspaceId: 1 });
    const ds = await at(2).ok('datasets.add', { projectId: p.id, name: 'ds' });
    const [img] = await at(1).ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'a.jpg', hash: sha(jpeg) }] });
    for (const t of apps) {
      const res = await fetch(t.baseUrl + img.pathOriginal, { headers: { 'x-api-key': ADMIN } });
      assert.equal(res.status, 200);
      assert.equal(sha(Buffer.from(await res.arrayBuffer())), sha(jpeg));
    }
    // One signing secret for all: a URL signed by one instance opens on another.
    const { url: signed } = await at(0).ok('storage.sign', { path: img.pathOriginal });
    const other = signed.replace(at(0).baseUrl, at(2).baseUrl);
    assert.equal((await fetch(other)).status, 200);
  });

  it('applies a connection added through one instance on the others, told by NOTIFY', async () => {
    const fsRoot = join(at(0).dataPath, 'shared-folder');
    await mkdir(fsRoot, { recursive: true });
    const heard = [1, 2].map((i) => new Promise<void>((resolve) => {
      const off = at(i).app.services.changes.subscribe('connections', () => { off(); resolve(); });
    }));
    const started = performance.now();
    await at(0).ok('remote-storage.connections.add', { name: 'shared-fs', provider: 'fs', path: fsRoot, buckets: ['shared'] });
    await Promise.all(heard);
    // The notification arrived; the reload it triggers runs in the instance's connection queue.
    for (const i of [1, 2]) await until(() => at(i).app.services.connections.get('shared-fs')?.active === true, `instance ${i} serving shared-fs`);
    const list = await at(2).ok('remote-storage.connections.list', {});
    assert.ok(JSON.stringify(list).includes('shared-fs'));
    // Reported, not asserted (machines here are noisy): how long the change took to reach the others.
    process.stdout.write(`# connection change reached 2 other instances in ${(performance.now() - started).toFixed(0)} ms\n`);
    await at(1).ok('remote-storage.connections.remove', { name: 'shared-fs' });
    for (const i of [0, 2]) await until(() => at(i).app.services.connections.get('shared-fs') === undefined, `instance ${i} dropping shared-fs`);
  });

  it('refuses a revoked key on every instance as soon as the revocation is announced', async () => {
    const { key } = await at(0).app.services.auth.createKey('temp', 'user');
    for (const t of apps) assert.equal((await t.call('projects.list', { workspaceId: 1 }, key)).status, 200, 'cached as valid');
    const heard = apps.map((t) => new Promise<void>((resolve) => {
      const off = t.app.services.changes.subscribe('api-keys', () => { off(); resolve(); });
    }));
    assert.equal(await at(0).app.services.catalog.apiKeys.revoke('temp'), 1);
    await announceChange(url, 'api-keys');
    await Promise.all(heard);
    for (const t of apps) assert.equal((await t.call('projects.list', { workspaceId: 1 }, key)).status, 401);
  });

  it('runs a job on one instance; the others see it, one cancels it, another resumes it', async () => {
    const prefix = `copy${randomBytes(3).toString('hex')}`;
    const primary = at(0).app.services.store;
    const { publicBucket } = at(0).config.storage;
    await fill(primary, publicBucket, sampleObjects(40));
    // Probes (2 buckets, twice) and some objects pass; then the copy waits mid-run.
    const gate = await startGateProxy(rgw.endpoint, 20);
    try {
      await at(0).ok('remote-storage.connections.add', {
        name: 'rgw-copy', provider: 'minio', endpoint: gate.url, access_key: rgw.accessKey, secret_key: rgw.secretKey, buckets: [`${prefix}-public`],
      });
      for (const i of [1, 2]) await until(() => at(i).app.services.connections.get('rgw-copy')?.active === true, `instance ${i} serving rgw-copy`);
      const job = await at(1).ok('migrations.start', { kind: 'storage', to: 'rgw-copy', bucketPrefix: prefix, concurrency: 2, retries: 3, retryDelayMs: 50 });
      const seen = await until(async () => {
        const j = await at(0).ok('migrations.status', { id: job.id });
        return gate.stats.held > 0 && j.counters.done > 0 ? j : undefined;
      }, 'the job mid-run, seen from another instance');
      assert.deepEqual([seen.kind, seen.status, seen.owner], ['storage', 'running', job.owner]);
      const asked = await at(2).ok('migrations.cancel', { id: job.id });
      assert.equal(asked.cancelRequested, true);
      // The owner sees the request at its next heartbeat and stops.
      await until(async () => ((await at(0).ok('migrations.status', { id: job.id })).status === 'cancelled' ? true : undefined), 'the job cancelled');
      gate.release();
      const resumed = await at(2).ok('migrations.start', { id: job.id });
      assert.deepEqual([resumed.id, resumed.alreadyRunning], [job.id, false]);
      const done = await until(async () => {
        const j = await at(1).ok('migrations.status', { id: job.id });
        return j.status === 'running' ? undefined : j;
      }, 'the job done');
      assert.equal(done.status, 'done', done.message);
      const direct = createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey });
      try {
        await assertSameContents(primary, publicBucket, direct, `${prefix}-public`);
      } finally {
        await direct.close();
      }
    } finally {
      await gate.close();
    }
  });

  it('answers /healthz and /readyz on every instance', async () => {
    for (const t of apps) {
      assert.deepEqual(await (await fetch(`${t.baseUrl}/healthz`)).json(), { status: 'ok' });
      const ready = await fetch(`${t.baseUrl}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', catalog: 'ok', storage: 'ok' });
    }
  });
});

describe('local storage on a shared PostgreSQL catalog', () => {
  it('refuses a second instance with its own DATA_PATH, naming the fix; DATA_PATH_SHARED allows it', async () => {
    const url = catalogBackend('postgres').url();
    const env = { STOWAGE_ADMIN_TOKEN: ADMIN };
    const first = await startTestApp(url, env);
    try {
      await assert.rejects(startTestApp(url, env), (err: Error) => {
        assert.match(err.message, /another Stowage instance already uses this PostgreSQL catalog with local storage/);
        assert.match(err.message, /DATA_PATH_SHARED=true/);
        return true;
      });
      const shared = await startTestApp(url, { ...env, DATA_PATH_SHARED: 'true' });
      await shared.close();
    } finally {
      await first.close();
    }
    // The claim goes with the first instance: a new one may start now.
    const next = await startTestApp(catalogBackend('postgres').url());
    await next.close();
  });

  it('reports a catalog or storage it cannot reach as not ready (503)', async () => {
    const t = await startTestApp(catalogBackend('sqlite').url());
    try {
      await rm(join(t.dataPath, 'storage', 'stowage-public'), { recursive: true, force: true });
      const res = await fetch(`${t.baseUrl}/readyz`);
      assert.equal(res.status, 503);
      const body = await res.json() as { status: string; catalog: string; storage: string };
      assert.equal(body.catalog, 'ok');
      assert.match(body.storage, /stowage-public/);
    } finally {
      await t.close();
    }
  });
});
