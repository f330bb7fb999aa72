/**
 * Storage migrations as API jobs (`migrations.start {kind: 'storage', to}`)
 * against a real S3 peer (Ceph radosgw), on both catalogs: both primary
 * buckets copied key for key to the connection's store, live counters, a
 * re-run that skips everything, a cancelled job resumed, the jobs listed
 * with their kind, and bad input refused naming the field.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Store } from '../../src/storage/providers/s3/index.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { catalogBackends } from '../helpers/catalogs.ts';
import type { Radosgw } from '../helpers/peers/radosgw.ts';
import { withRadosgwS3 } from '../helpers/peers/radosgw-s3.ts';
import { assertSameContents, fill, sampleObjects } from './fixtures.ts';
import { startInstance, waitJob, type Instance } from './harness.ts';

const FAST = { retries: 8, retryDelayMs: 50, retryMaxDelayMs: 500 };

let rgw: Radosgw;
let s3: S3Store;
withRadosgwS3('stowage-job-storage-', (p) => ({ rgw, s3 } = p));

for (const backend of catalogBackends()) {
  describe(`storage migration jobs on radosgw (${backend.name})`, () => {
    const prefix = `sj${randomUUID().slice(0, 8)}`;
    let dataPath: string;
    let t: Instance;
    let local: ObjectStore;

    before(async () => {
      dataPath = await mkdtemp(join(tmpdir(), 'stowage-storage-job-'));
      t = await startInstance({ DATA_PATH: dataPath, CATALOG_URL: backend.url() });
      local = t.app.services.store;
      await fill(local, 'stowage-public', sampleObjects(300));
      await fill(local, 'stowage-private', sampleObjects(5));
      await t.ok('remote-storage.connections.add', {
        name: 'rgw', provider: 'minio', endpoint: rgw.endpoint, access_key: rgw.accessKey, secret_key: rgw.secretKey, buckets: [`${prefix}-public`],
      });
      await t.ok('remote-storage.connections.add', {
        name: 'rgw-bad', provider: 'minio', endpoint: rgw.endpoint, access_key: rgw.accessKey, secret_key: 'not-the-secret-key-at-all', buckets: ['x'],
      });
    });
    after(async () => {
      await t?.close();
      await rm(dataPath, { recursive: true, force: true });
    });

    it('refuses bad input naming the field, and non-admin keys', async () => {
      const cases: Array<[object, number, RegExp, string]> = [
        [{ kind: 'storage' }, 400, /connection/, 'to'],
        [{ kind: 'storage', to: 'nope' }, 400, /no serving connection named nope/, 'to'],
        [{ kind: 'storage', to: 'rgw', bucketPrefix: 'Bad_Prefix' }, 400, /lowercase/, 'bucketPrefix'],
        [{ kind: 'storage', to: 'rgw', concurrency: 0 }, 400, /.+/, 'concurrency'],
        [{ kind: 'storage', to: 'rgw', include: [1] }, 400, /.+/, 'include'],
        [{ kind: 'bogus', to: 'rgw' }, 400, /project or storage/, 'kind'],
        [{ kind: 'storage', to: 'rgw-bad', bucketPrefix: prefix }, 400, /not writable|denied|signature|access/i, 'to'],
      ];
      for (const [body, status, message, field] of cases) {
        const res = await t.call('migrations.start', { ...FAST, ...body });
        const text = await res.text();
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${text}`);
        assert.match(text, message, JSON.stringify(body));
        assert.match(text, new RegExp(field), `${JSON.stringify(body)} names ${field}: ${text}`);
      }
      const { key } = await t.app.services.auth.createKey('storage-job-user', 'user');
      const res = await fetch(`${t.baseUrl}/public/api/v3/migrations.start`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ kind: 'storage', to: 'rgw' }),
      });
      assert.equal(res.status, 403);
    });

    it('copies both buckets key for key, with counters; a re-run copies nothing', async () => {
      const job = await t.ok('migrations.start', { kind: 'storage', to: 'rgw', bucketPrefix: prefix, concurrency: 4, ...FAST });
      assert.deepEqual([job.kind, job.target, job.resumed, job.alreadyRunning], ['storage', 'rgw', false, false]);
      assert.ok(['running', 'done'].includes(job.status));
      for (const k of ['done', 'total', 'bytes', 'bytesTotal', 'failed']) assert.ok(k in job.counters, k);
      const done = await waitJob(t, job.id);
      assert.equal(done.status, 'done', done.message);
      const objects = 305 + 6;
      assert.deepEqual([done.counters.done, done.counters.total, done.counters.failed], [objects, objects, 0]);
      assert.equal(done.counters.bytes, done.counters.bytesTotal);
      assert.deepEqual([done.progress.copied, done.progress.present], [objects, 0]);
      assert.match(done.message, new RegExp(`copied ${objects} object\\(s\\)`));
      await assertSameContents(local, 'stowage-public', s3, `${prefix}-public`);
      await assertSameContents(local, 'stowage-private', s3, `${prefix}-private`);

      const again = await waitJob(t, (await t.ok('migrations.start', { kind: 'storage', to: 'rgw', bucketPrefix: prefix, ...FAST })).id);
      assert.notEqual(again.id, job.id);
      assert.deepEqual([again.status, again.progress.copied, again.progress.present], ['done', 0, objects]);
      const listed = await t.ok('migrations.list', {});
      assert.deepEqual(listed.slice(0, 2).map((j: { id: number; kind: string }) => [j.id, j.kind]), [[again.id, 'storage'], [job.id, 'storage']]);
    });

    it('a cancelled job resumes: what was copied is skipped', async () => {
      const to = `${prefix}b`;
      const job = await t.ok('migrations.start', { kind: 'storage', to: 'rgw', bucketPrefix: to, concurrency: 1, ...FAST });
      await waitJob(t, job.id, (j) => j.counters.done >= 20);
      const cancelled = await t.ok('migrations.cancel', { id: job.id });
      assert.equal(cancelled.status, 'cancelled');
      const copiedBefore = cancelled.progress.copied as number;
      assert.ok(copiedBefore >= 20 && copiedBefore < 311, String(copiedBefore));
      const resumed = await t.ok('migrations.start', { id: job.id });
      assert.deepEqual([resumed.id, resumed.kind, resumed.alreadyRunning], [job.id, 'storage', false]);
      const done = await waitJob(t, job.id);
      assert.equal(done.status, 'done', done.message);
      assert.ok(done.progress.present >= copiedBefore, `${done.progress.present} present after ${copiedBefore} copied`);
      assert.equal(done.progress.present + done.progress.copied, 311);
      await assertSameContents(local, 'stowage-public', s3, `${to}-public`);
      await assertSameContents(local, 'stowage-private', s3, `${to}-private`);
    });
  });
}
