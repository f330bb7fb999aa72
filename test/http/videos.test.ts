import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makeVideo } from '../helpers/media-fixtures.ts';
import { linkBucket } from '../helpers/link-bucket.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

for (const backend of catalogBackends()) {
  describe(`videos API (${backend.name})`, () => {
    let t: TestApp;
    let dir: string;
    let mp4: Buffer;
    let datasetId: number;
    before(async () => {
      t = await startTestApp(backend.url());
      dir = await mkdtemp(join(tmpdir(), 'stowage-vid-'));
      mp4 = await readFile(await makeVideo(dir, { container: 'mp4', width: 64, height: 48, seconds: 2, fps: 10 }));
      const p = await t.ok('projects.add', { name: 'vids', workspaceId: 1, type: 'videos' });
      datasetId = (await t.ok('datasets.add', { projectId: p.id, name: 'clips' })).id;
    });
    after(async () => {
      await t?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('uploads video bytes, registers them by hash and reports real metadata', async () => {
      const form = new FormData();
      form.append('0-file', new Blob([mp4], { type: 'video/mp4' }), '0');
      const up = await fetch(`${t.baseUrl}/public/api/v3/videos.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: form });
      assert.equal(up.status, 200, await up.clone().text());
      assert.deepEqual(await up.json(), [{ hash: sha(mp4) }]);
      const [v] = await t.ok('videos.bulk.add', { datasetId, videos: [{ title: 'clip.mp4', hash: sha(mp4), meta: {} }] });
      assert.equal(v.name, 'clip.mp4');
      assert.equal(typeof v.fileMeta, 'object');
      assert.equal(v.fileMeta.width, 64);
      assert.equal(v.fileMeta.height, 48);
      assert.equal(v.fileMeta.framesCount, 20);
      assert.ok(Math.abs(v.fileMeta.duration - 2) < 0.15, String(v.fileMeta.duration));
      assert.equal(v.fileMeta.mime, 'video/mp4');
      assert.equal(v.fileMeta.size, String(mp4.length));
      assert.match(v.pathOriginal, /^\/stowage-public\/videos\/original\/.+\.mp4$/);
      const info = await t.ok('videos.info', { id: v.id });
      assert.equal(info.fileMeta.framesCount, 20);
    });

    it('refuses an image uploaded as a video', async () => {
      const form = new FormData();
      form.append('0-file', new Blob([Buffer.from('GIF89a not really')]), '0');
      const up = await fetch(`${t.baseUrl}/public/api/v3/videos.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: form });
      const body = await up.json() as Array<{ errors?: string }>;
      assert.match(String(body[0]?.errors), /not a supported video/);
    });

    it('adds videos by link with names equal to titles, lists and downloads them', async () => {
      await linkBucket(t, 'cams', { 'a.mp4': mp4 });
      // No metadata: the public link must not be fetched from a test.
      const added = await t.ok('videos.bulk.add', {
        datasetId, forceMetadataForLinks: false,
        videos: [{ title: 'a.mp4', link: 's3://cams/a.mp4', meta: {} }, { title: 'b.mp4', link: 'https://example.com/b.mp4', meta: {} }],
      });
      assert.deepEqual(added.map((v: { name: string }) => v.name), ['a.mp4', 'b.mp4']);
      assert.equal(added[1].fullStorageUrl, 'https://example.com/b.mp4');
      const list = await t.ok('videos.list', { datasetId });
      assert.equal(list.total, 3);
      const stored = list.entities.find((v: { name: string }) => v.name === 'clip.mp4');
      const res = await fetch(`${t.baseUrl}/public/api/v3/videos.download`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey, 'content-type': 'application/json', range: 'bytes=0-99' },
        body: JSON.stringify({ id: stored.id }),
      });
      assert.equal(res.status, 206);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), mp4.subarray(0, 100));
      t.app.services.links.delete('links-cams');
      const unresolved = await t.call('videos.download', { id: added[0].id });
      assert.equal(unresolved.status, 400);
      assert.match((await unresolved.json() as { error: string }).error, /cams/);
    });

    it('repoints videos with videos.update.links', async () => {
      const list = await t.ok('videos.list', { datasetId, filter: [{ field: 'name', operator: '=', value: 'clip.mp4' }] });
      const id = list.entities[0].id;
      await linkBucket(t, 'migration-bucket', { 'videos/clip.mp4': mp4 });
      const res = await t.ok('videos.update.links', { videos: [{ id, link: 's3://migration-bucket/videos/clip.mp4' }], clearLocalDataSource: true });
      assert.equal(res.success, true);
      const info = await t.ok('videos.info', { id });
      assert.equal(info.link, 's3://migration-bucket/videos/clip.mp4');
      assert.equal(info.pathOriginal, '/remote/s3/migration-bucket/videos/clip.mp4');
    });

    it('refuses videos in an images dataset', async () => {
      const p = await t.ok('projects.add', { name: 'imgs-not-vids', workspaceId: 1, type: 'images' });
      const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
      const res = await t.call('videos.bulk.add', { datasetId: ds.id, videos: [{ title: 'x.mp4', link: 's3://b/x.mp4' }] });
      assert.equal(res.status, 400);
    });
  });
}
