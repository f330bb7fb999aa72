import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { catalogBackends, withCatalog } from '../helpers/catalogs.ts';
import type { Catalog } from '../../src/catalog/types.ts';
import { projectWithDataset } from './fixtures.ts';

/** 44-character base64-like hashes that sort in `n` order. */
const h = (n: number) => `${String(n).padStart(43, 'A')}=`;

async function blob(catalog: Catalog, n: number, kind: 'image' | 'video' = 'image') {
  return catalog.blobs.put({ hash: h(n), kind, bucket: 'pub', key: `k/${n}`, size: n * 10, mime: kind === 'image' ? 'image/jpeg' : 'video/mp4', info: {} });
}

for (const backend of catalogBackends()) {
  describe(`blobs.unreferenced / remove (${backend.name})`, () => {
    it('lists blobs no stored item keeps, in hash order, page by page', () => withCatalog(backend, async (catalog) => {
      for (let n = 1; n <= 7; n++) await blob(catalog, n, n === 6 ? 'video' : 'image');
      const { dataset } = await projectWithDataset(catalog, 'images');
      const { dataset: vds } = await projectWithDataset(catalog, 'videos', 'clips');
      const [, linked] = await catalog.images.addMany(dataset.id, [
        { name: 'kept.jpg', hash: h(2), bucket: 'pub', storageKey: 'k/2', size: 20 },
        { name: 'moved.jpg', hash: h(3), bucket: 'pub', storageKey: 'k/3', size: 30 },
        { name: 'link-only.jpg', link: 's3://b/x.jpg' },
      ]);
      await catalog.videos.addMany(vds.id, [{ name: 'v.mp4', hash: h(6), bucket: 'pub', storageKey: 'k/6', size: 60 }]);
      // A relinked item keeps its hash but no longer reads our copy.
      await catalog.images.updateLinks([{ id: linked?.id ?? 0, link: 's3://b/moved.jpg' }]);
      const first = await catalog.blobs.unreferenced(2);
      assert.deepEqual(first.map((b) => b.hash), [h(1), h(3)]);
      const rest = await catalog.blobs.unreferenced(10, first.at(-1)?.hash);
      assert.deepEqual(rest.map((b) => b.hash), [h(4), h(5), h(7)]);
      assert.deepEqual(rest[0], { hash: h(4), kind: 'image', bucket: 'pub', key: 'k/4', size: 40, mime: 'image/jpeg', info: {}, createdAt: rest[0]?.createdAt });
      assert.deepEqual(await catalog.blobs.unreferenced(10, h(7)), []);
    }));

    it('removes only a blob that is still unreferenced', () => withCatalog(backend, async (catalog) => {
      await blob(catalog, 1);
      await blob(catalog, 2);
      const { dataset } = await projectWithDataset(catalog, 'images');
      // Listed as unreferenced, then an item takes it before the removal.
      assert.equal((await catalog.blobs.unreferenced(10)).length, 2);
      await catalog.images.addMany(dataset.id, [{ name: 'late.jpg', hash: h(2), bucket: 'pub', storageKey: 'k/2' }]);
      assert.equal(await catalog.blobs.remove(h(2)), false);
      assert.equal(await catalog.blobs.remove(h(1)), true);
      assert.equal(await catalog.blobs.remove(h(1)), false);
      assert.equal(await catalog.blobs.get(h(1)), undefined);
      assert.ok(await catalog.blobs.get(h(2)));
    }));
  });

  describe(`updateLinks with metadata (${backend.name})`, () => {
    it('sets mime, size and dimensions or fileMeta, and moves the size counters', () => withCatalog(backend, async (catalog) => {
      const { project, dataset } = await projectWithDataset(catalog, 'images');
      const [a, b] = await catalog.images.addMany(dataset.id, [
        { name: 'a.jpg', hash: h(1), bucket: 'pub', storageKey: 'k/1', size: 100, mime: 'image/jpeg', width: 1, height: 1 },
        { name: 'b.jpg', link: 's3://b/b.jpg' },
      ]);
      const rows = await catalog.images.updateLinks([
        { id: a?.id ?? 0, link: 's3://b/a.png', metadata: { mime: 'image/png', size: 250, width: 640, height: 480 } },
        { id: b?.id ?? 0, link: 's3://b/b2.jpg' },
      ]);
      assert.deepEqual(rows.map((r) => [r.link, r.mime, r.size, r.width, r.height, r.bucket]), [
        ['s3://b/a.png', 'image/png', 250, 640, 480, null], ['s3://b/b2.jpg', null, 0, null, null, null],
      ]);
      assert.equal((await catalog.datasets.get(dataset.id))?.size, 250);
      assert.equal((await catalog.projects.get(project.id))?.size, 250);
      const { dataset: vds } = await projectWithDataset(catalog, 'videos', 'clips');
      const [v] = await catalog.videos.addMany(vds.id, [{ name: 'v.mp4', link: 's3://b/v.mp4' }]);
      const [moved] = await catalog.videos.updateLinks([{ id: v?.id ?? 0, link: 's3://b/w.mp4', metadata: { mime: 'video/mp4', size: 9, fileMeta: { mime: 'video/mp4', size: '9', framesCount: 3 } } }]);
      assert.deepEqual([moved?.size, moved?.fileMeta, (await catalog.datasets.get(vds.id))?.size], [9, { mime: 'video/mp4', size: '9', framesCount: 3 }, 9]);
    }));
  });
}
