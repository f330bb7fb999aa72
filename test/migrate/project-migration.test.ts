/**
 * `migrations.*` (the seed's migrate_project as an API job) against a real
 * S3 peer (Ceph radosgw), on both catalogs: the seed's layout, links
 * re-pointed only after the remote size is checked, items readable
 * throughout, re-runs, per-item failures, `--keep-tree`, bad input, and
 * cancelled or interrupted jobs resumed where they stopped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Store } from '../../src/storage/providers/s3/index.ts';
import { catalogBackends } from '../helpers/catalogs.ts';
import { makePng } from '../helpers/media-fixtures.ts';
import type { Radosgw } from '../helpers/peers/radosgw.ts';
import { withRadosgwS3 } from '../helpers/peers/radosgw-s3.ts';
import { download, seedProject, startInstance, waitJob, type Instance, type SeededItem } from './harness.ts';

const FAST = { retries: 8, retryDelayMs: 50, retryMaxDelayMs: 500 };

let rgw: Radosgw;
let s3: S3Store;
withRadosgwS3('stowage-project-migration-', (p) => ({ rgw, s3 } = p));

async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
}

/** Downloads random items while `running()` holds; every download must return the item's bytes. */
async function readAlong(t: Instance, kind: 'image' | 'video', items: SeededItem[], running: () => boolean): Promise<number> {
  let n = 0;
  while (running()) {
    const item = items[n % items.length] as SeededItem;
    assert.deepEqual(await download(t, kind, item.id), item.bytes, `${kind} ${item.id} during the migration`);
    n += 1;
  }
  return n;
}

for (const backend of catalogBackends()) {
  describe(`migrations API on radosgw (${backend.name})`, () => {
    const bucket = `proj-${randomUUID().slice(0, 8)}`;
    let env: Record<string, string>;
    let dataPath: string;
    let t: Instance;
    let pngs: Buffer[];

    before(async () => {
      dataPath = await mkdtemp(join(tmpdir(), 'stowage-migrate-project-'));
      env = { DATA_PATH: dataPath, CATALOG_URL: backend.url() };
      await s3.ensureBucket(bucket);
      t = await startInstance(env);
      await t.ok('remote-storage.connections.add', {
        name: 'rgw', provider: 'minio', endpoint: rgw.endpoint, access_key: rgw.accessKey, secret_key: rgw.secretKey, buckets: [bucket],
      });
      await t.ok('remote-storage.connections.add', {
        name: 'rgw-bad', provider: 'minio', endpoint: rgw.endpoint, access_key: rgw.accessKey, secret_key: 'not-the-secret-key-at-all', buckets: ['locked'],
      });
      pngs = await Promise.all(Array.from({ length: 30 }, (_, i) => makePng(20 + i, 16 + i, { seed: i })));
    });
    after(async () => {
      await t?.close();
      await rm(dataPath, { recursive: true, force: true });
    });

    it('refuses bad input with a clear message', async () => {
      const { projectId } = await seedProject(t, 'image', 'bad-input', pngs.slice(0, 1));
      const start = (body: object) => t.call('migrations.start', { ...FAST, ...body });
      const cases: Array<[object, number, RegExp]> = [
        [{ projectId: 999_999, to: `s3://${bucket}/m` }, 404, /project 999999 not found/],
        [{ projectId, to: 's3://not-allowed/m' }, 400, /no remote connection allows minio bucket "not-allowed"/],
        [{ projectId, to: `s3://${bucket}/m/../../etc` }, 400, /contains "\." or "\.\." segments/],
        [{ projectId, to: `s3://${bucket}/m/%2e%2e/x` }, 400, /percent-encoded/],
        [{ projectId, to: 'ftp://x/y' }, 400, /not a valid link/],
        [{ projectId, to: 's3://locked/m' }, 400, /locked is not writable/],
      ];
      for (const [body, status, message] of cases) {
        const res = await start(body);
        const text = await res.text();
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${text}`);
        assert.match((JSON.parse(text) as { error: string }).error, message);
      }
      assert.equal((await t.call('migrations.status', { id: 424242 })).status, 404);
    });

    it('uploads, checks and re-points every item; downloads never fail or change meanwhile', async () => {
      const { projectId, items } = await seedProject(t, 'image', 'imgs', pngs, ['a', 'a/b', 'c']);
      const localFiles = await countFiles(join(dataPath, 'storage'));
      const job = await t.ok('migrations.start', { projectId, to: `s3://${bucket}/migrated/`, concurrency: 4, ...FAST });
      assert.equal(job.status, 'running');
      let running = true;
      const reads = readAlong(t, 'image', items, () => running);
      const done = await waitJob(t, job.id);
      running = false;
      assert.ok((await reads) > 0);
      assert.equal(done.status, 'done', done.message);
      assert.deepEqual([done.progress.candidates, done.progress.uploaded, done.progress.relinked, done.progress.failed], [30, 30, 30, 0]);
      for (const item of items) {
        const info = await t.ok('images.info', { id: item.id });
        const key = `migrated/images/${projectId}/${item.datasetId}/${item.name}`;
        assert.equal(info.link, `s3://${bucket}/${key}`);
        assert.equal((await s3.head(bucket, key)).size, item.bytes.length);
        assert.deepEqual(await download(t, 'image', item.id), item.bytes);
      }
      assert.equal(await countFiles(join(dataPath, 'storage')), localFiles, 'nothing local is deleted');
      const again = await waitJob(t, (await t.ok('migrations.start', { projectId, to: `s3://${bucket}/migrated`, ...FAST })).id);
      assert.match(again.message, /nothing to migrate: every item of project \d+ is already linked/);
      assert.ok((await t.ok('migrations.list', {})).some((j: { id: number }) => j.id === job.id));
    });

    it('reports a failing item and leaves it untouched; skips what is already remote; a re-run finishes', async () => {
      const { projectId, items } = await seedProject(t, 'image', 'partial', pngs.slice(5, 8));
      const [broken, early] = [items[0] as SeededItem, items[1] as SeededItem];
      const brokenInfo = await t.ok('images.info', { id: broken.id });
      const brokenPath = join(dataPath, 'storage', ...String(brokenInfo.pathOriginal).split('/').filter((s) => s !== ''));
      await rename(brokenPath, `${brokenPath}.away`);
      const earlyKey = `p/images/${projectId}/${early.datasetId}/${early.name}`;
      await s3.put(bucket, earlyKey, Readable.from([early.bytes]), { size: early.bytes.length });
      const to = `s3://${bucket}/p`;
      const first = await waitJob(t, (await t.ok('migrations.start', { projectId, to, ...FAST })).id);
      assert.deepEqual([first.progress.relinked, first.progress.alreadyRemote, first.progress.uploaded, first.progress.failed], [2, 1, 1, 1]);
      assert.equal(first.progress.failures[0].id, broken.id);
      assert.equal((await t.ok('images.info', { id: broken.id })).link, null, 'the failed item keeps its stored bytes');
      await rename(`${brokenPath}.away`, brokenPath);
      const second = await waitJob(t, (await t.ok('migrations.start', { projectId, to, ...FAST })).id);
      assert.deepEqual([second.progress.candidates, second.progress.relinked, second.progress.failed], [1, 1, 0]);
      for (const item of items) assert.deepEqual(await download(t, 'image', item.id), item.bytes);
    });

    it('keeps the nested dataset names with keepTree', async () => {
      const { projectId, items } = await seedProject(t, 'image', 'tree', pngs.slice(0, 4), ['top', 'top/sub dir', 'other', 'other/x']);
      const done = await waitJob(t, (await t.ok('migrations.start', { projectId, to: `s3://${bucket}/tree`, keepTree: true, ...FAST })).id);
      assert.equal(done.progress.relinked, 4, done.message);
      const links = await Promise.all(items.map(async (i) => (await t.ok('images.info', { id: i.id })).link as string));
      assert.deepEqual(links.map((l) => l.replace(`s3://${bucket}/tree/images/${projectId}/`, '')).sort(), [
        'other/image-2.png', 'other/x/image-3.png', 'top/image-0.png', 'top/sub dir/image-1.png',
      ]);
    });

    it('a cancelled job, and one whose instance stopped, resume where they stopped', async () => {
      const files = Array.from({ length: 1500 }, (_, i) => pngs[i % pngs.length] as Buffer);
      const { projectId, items } = await seedProject(t, 'image', 'big', files, ['one', 'two']);
      const to = `s3://${bucket}/resume`;
      const started = await t.ok('migrations.start', { projectId, to, concurrency: 1, ...FAST });
      await waitJob(t, started.id, (j) => j.cursor > 0);
      const cancelled = await t.ok('migrations.cancel', { id: started.id });
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.cursor, items[999]?.id, 'the first page of 1,000 is recorded');
      const resumed = await t.ok('migrations.start', { projectId, to, concurrency: 1, ...FAST });
      assert.deepEqual([resumed.id, resumed.resumed], [started.id, true]);
      await waitJob(t, started.id, (j) => j.progress.scanned > 1000 || j.status !== 'running');
      await t.close();
      t = await startInstance(env);
      // The stopped instance released the job: the new one's runner takes it over by itself, or it is resumed by id.
      const [listed] = await t.ok('migrations.list', { limit: 1 });
      assert.equal(listed.id, started.id);
      assert.ok(['interrupted', 'running'].includes(listed.status), listed.status);
      const again = await t.ok('migrations.start', { id: started.id });
      assert.equal(again.id, started.id);
      const done = await waitJob(t, started.id);
      assert.equal(done.status, 'done', done.message);
      assert.deepEqual([done.progress.scanned, done.progress.relinked, done.progress.failed], [1500, 1500, 0]);
      for (const item of [items[0], items[999], items[1000], items[1499]] as SeededItem[]) {
        assert.deepEqual(await download(t, 'image', item.id), item.bytes);
      }
    });
  });
}
