import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makeJpeg, makeMetadataHeavyJpeg, makePng, makeVideo } from '../helpers/media-fixtures.ts';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';

/** Posts a links file to `<kind>s.links.import` as the multipart body the API takes. */
async function importLinks(t: TestApp, kind: 'image' | 'video', datasetId: number, text: string): Promise<Response> {
  const form = new FormData();
  form.append('datasetId', String(datasetId));
  form.append('file', new Blob([text], { type: 'text/plain' }), 'links.txt');
  return fetch(`${t.baseUrl}/public/api/v3/${kind}s.links.import`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: form });
}

async function count(t: TestApp, datasetId: number, kind = 'images'): Promise<number> {
  return (await t.ok(`${kind}.list`, { datasetId })).total;
}

for (const backend of catalogBackends()) {
  describe(`linked images and videos (${backend.name})`, () => {
    let t: TestApp;
    let root: string;
    let store: LocalStore;
    let jpeg: Buffer;
    let heavy: Buffer;
    let projectId: number;
    const put = (key: string, bytes: Buffer) => store.put('cv-data', key, Readable.from([bytes]));
    const dataset = async (name: string) => (await t.ok('datasets.add', { projectId, name })).id as number;

    before(async () => {
      t = await startTestApp(backend.url());
      root = await mkdtemp(join(tmpdir(), 'stowage-links-'));
      store = createLocalStore({ root });
      await store.ensureBucket('cv-data');
      t.app.services.links.set({ name: 'cv', provider: 'minio', store, buckets: ['cv-data'] });
      jpeg = await makeJpeg(64, 48, { seed: 11 });
      heavy = await makeMetadataHeavyJpeg(640, 360, { exifChars: 60_000, xmpSegments: 1, seed: 12 });
      await put('cars/a.jpg', jpeg);
      await put('cars/exif.jpg', heavy);
      await put('cars/b.png', await makePng(30, 20, { seed: 13 }));
      await put('cars/notes.jpg', Buffer.from('not an image'));
      projectId = (await t.ok('projects.add', { name: 'linked', workspaceId: 1, type: 'images' })).id;
    });
    after(async () => {
      await t?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('bulk.add by link fills size, mime, width and height from the object', async () => {
      const ds = await dataset('add');
      const rows = await t.ok('images.bulk.add', {
        datasetId: ds, forceMetadataForLinks: true,
        images: [{ title: 'a.jpg', link: 's3://cv-data/cars/a.jpg' }, { title: 'exif.jpg', link: 's3://cv-data/cars/exif.jpg' }, { title: 'b.png', link: 'minio://cv-data/cars/b.png' }],
      });
      assert.deepEqual(rows.map((r: any) => [r.name, r.mime, r.size, r.width, r.height, r.link]), [
        ['a.jpg', 'image/jpeg', jpeg.length, 64, 48, 's3://cv-data/cars/a.jpg'],
        ['exif.jpg', 'image/jpeg', heavy.length, 640, 360, 's3://cv-data/cars/exif.jpg'],
        ['b.png', 'image/png', (await store.head('cv-data', 'cars/b.png')).size, 30, 20, 'minio://cv-data/cars/b.png'],
      ]);
      const info = await t.ok('images.info', { id: rows[1].id });
      assert.deepEqual([info.width, info.height, info.size], [640, 360, heavy.length]);
      const total = rows.reduce((n: number, r: any) => n + r.size, 0);
      assert.equal((await t.ok('datasets.info', { id: ds })).size, String(total));
    });

    it('skips reading objects when forceMetadataForLinks is false, but still resolves the bucket', async () => {
      const ds = await dataset('no-meta');
      const [row] = await t.ok('images.bulk.add', { datasetId: ds, forceMetadataForLinks: false, images: [{ title: 'x.jpg', link: 's3://cv-data/cars/not-there.jpg' }] });
      assert.deepEqual([row.width, row.mime, row.size], [null, null, 0]);
      const res = await t.call('images.bulk.add', { datasetId: ds, forceMetadataForLinks: false, images: [{ title: 'y.jpg', link: 's3://elsewhere/y.jpg' }] });
      assert.equal(res.status, 400);
    });

    it('refuses an unknown bucket naming it and where to allow it; adds nothing', async () => {
      const ds = await dataset('unknown');
      const res = await t.call('images.bulk.add', { datasetId: ds, images: [{ title: 'a.jpg', link: 's3://cv-data/cars/a.jpg' }, { title: 'z.jpg', link: 's3://secret-bucket/z.jpg' }] });
      assert.equal(res.status, 400);
      const body = await res.json() as { error: string; details: { bucket: string; field: string } };
      assert.match(body.error, /images\.1\.link: no remote connection allows minio bucket "secret-bucket"/);
      assert.match(body.error, /remote_links\.yml/);
      assert.equal(body.details.bucket, 'secret-bucket');
      assert.equal(await count(t, ds), 0);
    });

    it('refuses a missing object naming the link, and a non-image; adds nothing (all or nothing)', async () => {
      const ds = await dataset('missing');
      const res = await t.call('images.bulk.add', { datasetId: ds, images: [{ title: 'a.jpg', link: 's3://cv-data/cars/a.jpg' }, { title: 'gone.jpg', link: 's3://cv-data/cars/gone.jpg' }] });
      assert.equal(res.status, 400);
      assert.match((await res.json() as { error: string }).error, /images\.1\.link: s3:\/\/cv-data\/cars\/gone\.jpg does not exist/);
      const bad = await t.call('images.bulk.add', { datasetId: ds, images: [{ title: 'notes.jpg', link: 's3://cv-data/cars/notes.jpg' }] });
      assert.equal(bad.status, 422);
      assert.match((await bad.json() as { error: string }).error, /notes\.jpg is not a supported image/);
      assert.equal(await count(t, ds), 0);
    });

    it('update.links resolves and describes the new links; stored bytes stay on disk', async () => {
      const ds = await dataset('relink');
      const form = new FormData();
      form.append('0-file', new Blob([jpeg], { type: 'image/*' }), '0');
      const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: form });
      const [{ hash }] = await up.json() as [{ hash: string }];
      const [img] = await t.ok('images.bulk.add', { datasetId: ds, images: [{ title: 'a.jpg', hash }] });
      const stored = join(t.dataPath, 'storage', img.pathOriginal);
      const bad = await t.call('images.update.links', { images: [{ id: img.id, link: 's3://nowhere/a.jpg' }], clearLocalDataSource: true });
      assert.equal(bad.status, 400);
      assert.match((await bad.json() as { error: string }).error, /"nowhere"/);
      const missing = await t.call('images.update.links', { images: [{ id: img.id, link: 's3://cv-data/migrated/none.jpg' }] });
      assert.equal(missing.status, 400);
      assert.equal((await t.ok('images.info', { id: img.id })).link, null);
      await put('migrated/a.jpg', jpeg);
      await t.ok('images.update.links', { images: [{ id: img.id, link: 's3://cv-data/migrated/a.jpg' }], clearLocalDataSource: true });
      const info = await t.ok('images.info', { id: img.id });
      assert.deepEqual([info.link, info.width, info.height, info.size, info.mime], ['s3://cv-data/migrated/a.jpg', 64, 48, jpeg.length, 'image/jpeg']);
      assert.deepEqual(await readFile(stored), jpeg, 'clearLocalDataSource never deletes the stored object');
      assert.equal((await t.ok('datasets.info', { id: ds })).size, String(jpeg.length));
      const dl = await t.call('images.download', { id: img.id });
      assert.deepEqual(Buffer.from(await dl.arrayBuffer()), jpeg);
    });

    it('imports a links file: bad lines by number, good ones in; a re-run adds nothing', async () => {
      const ds = await dataset('import');
      const text = [
        '# cars exported 2024-05-01', '', 's3://cv-data/cars/a.jpg', 'ftp://cv-data/cars/a.jpg', 's3://other-bucket/c.jpg',
        '   s3://cv-data/cars/exif.jpg  ', 's3://cv-data/cars/gone.jpg', 's3://cv-data/cars/a.jpg', 's3://cv-data/migrated/a.jpg',
        's3://cv-data/cars/notes.jpg', 'minio://cv-data/cars/b.png\r',
      ].join('\n');
      const res = await importLinks(t, 'image', ds, text);
      assert.equal(res.status, 200, await res.clone().text());
      const report = await res.json() as { imported: number; skipped: number; errors: Array<{ line: number; link: string; reason: string }> };
      assert.equal(report.imported, 3);
      assert.equal(report.skipped, 1);
      assert.deepEqual(report.errors.map((e) => [e.line, e.link]), [
        [4, 'ftp://cv-data/cars/a.jpg'], [5, 's3://other-bucket/c.jpg'], [7, 's3://cv-data/cars/gone.jpg'],
        [9, 's3://cv-data/migrated/a.jpg'], [10, 's3://cv-data/cars/notes.jpg'],
      ]);
      assert.match(report.errors[0]?.reason ?? '', /not a valid link/);
      assert.match(report.errors[1]?.reason ?? '', /no remote connection allows minio bucket "other-bucket"/);
      assert.match(report.errors[2]?.reason ?? '', /does not exist/);
      assert.match(report.errors[3]?.reason ?? '', /conflict: the dataset already has "a\.jpg" linked to s3:\/\/cv-data\/cars\/a\.jpg/);
      assert.match(report.errors[4]?.reason ?? '', /not a supported image/);
      const rows = (await t.ok('images.list', { datasetId: ds })).entities as any[];
      assert.deepEqual(rows.map((r) => [r.name, r.width]).sort(), [['a.jpg', 64], ['b.png', 30], ['exif.jpg', 640]]);
      const again = await (await importLinks(t, 'image', ds, text)).json() as typeof report;
      assert.deepEqual([again.imported, again.skipped, again.errors.length], [0, 4, 5]);
      assert.equal(await count(t, ds), 3);
    });

    it('imports video links with fileMeta, and refuses a multipart body without datasetId first', async () => {
      const vp = (await t.ok('projects.add', { name: 'clips', workspaceId: 1, type: 'videos' })).id;
      const vds = (await t.ok('datasets.add', { projectId: vp, name: 'ds' })).id;
      const mp4 = await readFile(await makeVideo(root, { container: 'mp4', width: 160, height: 120, seconds: 2, fps: 10 }));
      await put('clips/one.mp4', mp4);
      const report = await (await importLinks(t, 'video', vds, 's3://cv-data/clips/one.mp4\n')).json() as { imported: number };
      assert.equal(report.imported, 1);
      const [video] = (await t.ok('videos.list', { datasetId: vds })).entities as any[];
      assert.deepEqual([video.fileMeta.width, video.fileMeta.height, video.fileMeta.framesCount, video.fileMeta.mime, video.fileMeta.size], [160, 120, 20, 'video/mp4', String(mp4.length)]);
      const form = new FormData();
      form.append('file', new Blob(['s3://cv-data/clips/one.mp4\n']), 'links.txt');
      form.append('datasetId', String(vds));
      const res = await fetch(`${t.baseUrl}/public/api/v3/videos.links.import`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: form });
      assert.equal(res.status, 400);
      assert.match((await res.json() as { error: string }).error, /datasetId field must come before the file part/);
    });
  });
}
