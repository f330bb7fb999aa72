import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Catalog, FieldFilter, Image } from '../../src/catalog/types.ts';
import { catalogBackends, withCatalog } from '../helpers/catalogs.ts';
import { images, projectWithDataset, rejectsWith } from './fixtures.ts';

async function counters(catalog: Catalog, projectId: number, datasetId: number) {
  const p = await catalog.projects.get(projectId);
  const d = await catalog.datasets.get(datasetId);
  return { projectItems: p?.itemsCount, projectSize: p?.size, datasetItems: d?.itemsCount, datasetSize: d?.size };
}

const ids = (rows: { id: number }[]) => rows.map((r) => r.id);

for (const backend of catalogBackends()) {
  describe(`images (${backend.name})`, () => {
    test('addMany returns rows in input order; get/getMany read them back', () =>
      withCatalog(backend, async (catalog) => {
        const { project, dataset } = await projectWithDataset(catalog);
        const meta = { exif: { iso: 100 }, tags: ['a', 'ü'] };
        const added = await catalog.images.addMany(dataset.id, [
          { name: 'z.jpg', hash: 'h1', bucket: 'b', storageKey: 'k1', mime: 'image/jpeg', size: 10, width: 4, height: 3, meta, createdBy: 2 },
          { name: 'a.png', link: 'https://example.com/a.png', description: 'linked' },
        ]);
        assert.deepEqual(added.map((i) => i.name), ['z.jpg', 'a.png']);
        const [z, a] = added as [Image, Image];
        assert.ok(z.id < a.id);
        assert.equal(z.datasetId, dataset.id);
        assert.equal(z.projectId, project.id);
        assert.equal(z.teamId, project.teamId);
        assert.equal(z.workspaceId, project.workspaceId);
        assert.deepEqual(z.meta, meta);
        assert.equal(z.width, 4);
        assert.equal(z.createdBy, 2);
        assert.deepEqual(
          { hash: a.hash, link: a.link, bucket: a.bucket, storageKey: a.storageKey, mime: a.mime, size: a.size, width: a.width, meta: a.meta, createdBy: a.createdBy },
          { hash: null, link: 'https://example.com/a.png', bucket: null, storageKey: null, mime: null, size: 0, width: null, meta: {}, createdBy: null },
        );
        assert.deepEqual(await catalog.images.get(z.id), z);
        assert.equal(await catalog.images.get(999_999), undefined);
        const many = await catalog.images.getMany([a.id, 999_999, z.id, a.id]);
        assert.deepEqual(many.sort((x, y) => x.id - y.id), [z, a]);
        assert.deepEqual(await catalog.images.addMany(dataset.id, []), []);
      }));

    test('counters follow adds and removes', () =>
      withCatalog(backend, async (catalog) => {
        const { project, dataset } = await projectWithDataset(catalog);
        const other = await catalog.datasets.create({ projectId: project.id, name: 'other' });
        const added = await catalog.images.addMany(dataset.id, images(5)); // sizes 1..5
        await catalog.images.addMany(other.id, images(2, 'o_', 10)); // sizes 11, 12
        assert.deepEqual(await counters(catalog, project.id, dataset.id), { projectItems: 7, projectSize: 38, datasetItems: 5, datasetSize: 15 });
        assert.equal((await catalog.datasets.get(other.id))?.size, 23);

        const removed = await catalog.images.removeMany([added[0]!.id, added[4]!.id, added[0]!.id, 999_999]);
        assert.equal(removed, 2);
        assert.deepEqual(await counters(catalog, project.id, dataset.id), { projectItems: 5, projectSize: 32, datasetItems: 3, datasetSize: 9 });
        assert.equal(await catalog.images.get(added[0]!.id), undefined);
        assert.equal(await catalog.images.removeMany([]), 0);
        const list = await catalog.images.list({ datasetId: dataset.id, limit: 10 });
        assert.equal(list.total, 3);
        assert.deepEqual(ids(list.rows), ids(added.slice(1, 4)));
      }));

    test('NONUNIQUE: names taken in the dataset or repeated in the batch; nothing is added', () =>
      withCatalog(backend, async (catalog) => {
        const { project, dataset } = await projectWithDataset(catalog);
        const [taken] = await catalog.images.addMany(dataset.id, [{ name: 'taken.jpg', size: 3 }]);
        const err = await rejectsWith(
          catalog.images.addMany(dataset.id, [{ name: 'new.jpg' }, { name: 'taken.jpg' }, { name: 'twice.jpg' }, { name: 'twice.jpg' }]),
          'Conflict',
        );
        assert.deepEqual(err.details, {
          type: 'NONUNIQUE',
          errors: [
            { name: 'taken.jpg', id: taken!.id },
            { name: 'twice.jpg', id: null },
          ],
        });
        const within = await rejectsWith(catalog.images.addMany(dataset.id, [{ name: 'x' }, { name: 'x' }]), 'Conflict');
        assert.deepEqual(within.details, { type: 'NONUNIQUE', errors: [{ name: 'x', id: null }] });
        assert.equal((await catalog.images.list({ datasetId: dataset.id, limit: 10 })).total, 1);
        assert.deepEqual(await counters(catalog, project.id, dataset.id), { projectItems: 1, projectSize: 3, datasetItems: 1, datasetSize: 3 });
        // Another dataset may reuse the name.
        const other = await catalog.datasets.create({ projectId: project.id, name: 'other' });
        await catalog.images.addMany(other.id, [{ name: 'taken.jpg' }]);
      }));

    test('concurrent batches into one dataset: counters exact, a clashing batch is refused whole', () =>
      withCatalog(backend, async (catalog) => {
        const { project, dataset } = await projectWithDataset(catalog);
        const batches = Array.from({ length: 6 }, (_, b) => images(50, `b${b}_`));
        batches.push(images(50, 'b0_')); // clashes with batch 0, whoever commits first
        const results = await Promise.allSettled(batches.map((batch) => catalog.images.addMany(dataset.id, batch)));
        const failed = results.filter((r) => r.status === 'rejected');
        assert.equal(failed.length, 1);
        assert.equal((failed[0] as PromiseRejectedResult).reason.kind, 'Conflict');
        assert.equal((failed[0] as PromiseRejectedResult).reason.details.errors.length, 50);
        const c = await counters(catalog, project.id, dataset.id);
        assert.equal(c.datasetItems, 300);
        assert.equal(c.projectItems, 300);
        assert.equal((await catalog.images.list({ datasetId: dataset.id, limit: 1, filters: [{ field: 'id', operator: '>', value: 0 }] })).total, 300);
      }));

    test('missing dataset, wrong project type, bad input', () =>
      withCatalog(backend, async (catalog) => {
        await rejectsWith(catalog.images.addMany(999_999, [{ name: 'a' }]), 'NotFound');
        const { project, dataset } = await projectWithDataset(catalog, 'videos', 'vids');
        await rejectsWith(catalog.images.addMany(dataset.id, [{ name: 'a.jpg' }]), 'InvalidInput');
        assert.equal((await catalog.projects.get(project.id))?.itemsCount, 0);
        const imgs = await projectWithDataset(catalog, 'images', 'imgs');
        await rejectsWith(catalog.images.addMany(imgs.dataset.id, [{ name: '' }]), 'InvalidInput');
        await rejectsWith(catalog.images.addMany(imgs.dataset.id, [{ name: 'a', size: -1 }]), 'InvalidInput');
        await rejectsWith(catalog.images.list({ limit: 10 }), 'InvalidInput');
      }));

    test('updateLinks repoints items and clears local storage; missing ids change nothing', () =>
      withCatalog(backend, async (catalog) => {
        const { dataset } = await projectWithDataset(catalog);
        const [a, b, c] = await catalog.images.addMany(dataset.id, images(3));
        const updated = await catalog.images.updateLinks([
          { id: c!.id, link: 's3://bucket/c.jpg' },
          { id: a!.id, link: 'https://x/a.jpg' },
        ]);
        assert.deepEqual(ids(updated), [c!.id, a!.id]);
        const after = await catalog.images.get(a!.id);
        assert.equal(after?.link, 'https://x/a.jpg');
        assert.equal(after?.bucket, null);
        assert.equal(after?.storageKey, null);
        assert.equal(after?.hash, a!.hash);
        assert.equal(after?.size, a!.size);
        assert.equal(after?.mime, a!.mime);
        assert.deepEqual(after?.meta, a!.meta);
        assert.ok((after?.updatedAt ?? '') >= a!.updatedAt);

        const err = await rejectsWith(
          catalog.images.updateLinks([{ id: b!.id, link: 'https://x/b.jpg' }, { id: 999_998, link: 'x' }, { id: 999_999, link: 'y' }]),
          'NotFound',
        );
        assert.deepEqual(err.details, { ids: [999_998, 999_999] });
        const untouched = await catalog.images.get(b!.id);
        assert.equal(untouched?.link, null);
        assert.equal(untouched?.storageKey, b!.storageKey);
        assert.deepEqual(await catalog.images.updateLinks([]), []);
      }));

    test('list: filters on hash, link, name, ids; sorting; page and keyset modes', () =>
      withCatalog(backend, async (catalog) => {
        const { dataset } = await projectWithDataset(catalog);
        const added = await catalog.images.addMany(dataset.id, images(20));
        await catalog.images.updateLinks([{ id: added[3]!.id, link: 'https://cdn/x3.jpg' }]);
        const list = (filters: FieldFilter[] | undefined, extra = {}) =>
          catalog.images.list({ datasetId: dataset.id, limit: 100, ...(filters ? { filters } : {}), ...extra });

        assert.deepEqual(ids((await list([{ field: 'hash', operator: '=', value: 'hash-img_7' }])).rows), [added[7]!.id]);
        assert.deepEqual(ids((await list([{ field: 'link', operator: '!=', value: null }])).rows), [added[3]!.id]);
        assert.equal((await list([{ field: 'link', operator: '=', value: null }])).total, 19);
        assert.equal((await list([{ field: 'link', operator: '!=', value: 'https://cdn/x3.jpg' }])).total, 19);
        assert.equal((await list([{ field: 'link', operator: 'contains', value: 'CDN' }])).total, 1);
        assert.equal((await list([{ field: 'name', operator: 'in', value: ['img_00001.jpg', 'img_00002.jpg', 'nope'] }])).total, 2);
        const range = await list([
          { field: 'id', operator: '>=', value: added[5]!.id },
          { field: 'id', operator: '<', value: added[8]!.id },
        ]);
        assert.deepEqual(range, { total: 3, rows: added.slice(5, 8) });

        const bySizeDesc = await list(undefined, { sort: 'size', sortOrder: 'desc', limit: 3 });
        assert.equal(bySizeDesc.total, 20);
        assert.deepEqual(ids(bySizeDesc.rows), ids([added[19]!, added[18]!, added[17]!]));
        const page2 = await list(undefined, { limit: 5, offset: 5 });
        assert.deepEqual(ids(page2.rows), ids(added.slice(5, 10)));
        const keyset = await list(undefined, { limit: 5, afterId: added[9]!.id });
        assert.deepEqual(ids(keyset.rows), ids(added.slice(10, 15)));
        assert.equal(keyset.total, 20);
        const beyond = await list(undefined, { limit: 5, offset: 100 });
        assert.deepEqual(beyond, { total: 20, rows: [] });

        const err = await rejectsWith(list([{ field: 'parentId', operator: '=', value: 1 }]), 'InvalidInput');
        assert.equal(err.details?.field, 'parentId');
      }));

    test('recursive lists cover nested datasets; project lists cover all datasets', () =>
      withCatalog(backend, async (catalog) => {
        const { project, dataset: root } = await projectWithDataset(catalog);
        const child = await catalog.datasets.create({ projectId: project.id, name: 'child', parentId: root.id });
        const grandchild = await catalog.datasets.create({ projectId: project.id, name: 'gc', parentId: child.id });
        const sibling = await catalog.datasets.create({ projectId: project.id, name: 'sibling' });
        const inRoot = await catalog.images.addMany(root.id, images(2, 'r_'));
        const inChild = await catalog.images.addMany(child.id, images(2, 'c_'));
        const inGc = await catalog.images.addMany(grandchild.id, images(1, 'g_'));
        const inSibling = await catalog.images.addMany(sibling.id, images(3, 's_'));

        const direct = await catalog.images.list({ datasetId: root.id, limit: 100 });
        assert.deepEqual({ total: direct.total, ids: ids(direct.rows) }, { total: 2, ids: ids(inRoot) });
        const tree = await catalog.images.list({ datasetId: root.id, recursive: true, limit: 100 });
        assert.equal(tree.total, 5);
        assert.deepEqual(ids(tree.rows), ids([...inRoot, ...inChild, ...inGc]));
        const childTree = await catalog.images.list({ datasetId: child.id, recursive: true, limit: 2, offset: 1 });
        assert.deepEqual({ total: childTree.total, ids: ids(childTree.rows) }, { total: 3, ids: ids([inChild[1]!, inGc[0]!]) });
        const filteredTree = await catalog.images.list({
          datasetId: root.id,
          recursive: true,
          limit: 100,
          filters: [{ field: 'name', operator: 'contains', value: 'c_' }],
        });
        assert.equal(filteredTree.total, 2);

        const all = await catalog.images.list({ projectId: project.id, limit: 100 });
        assert.equal(all.total, 8);
        assert.deepEqual(new Set(ids(all.rows)), new Set(ids([...inRoot, ...inChild, ...inGc, ...inSibling])));
        const both = await catalog.images.list({ projectId: project.id, datasetId: sibling.id, limit: 100 });
        assert.deepEqual({ total: both.total, ids: ids(both.rows) }, { total: 3, ids: ids(inSibling) });
        assert.equal((await catalog.projects.get(project.id))?.itemsCount, 8);
      }));

    test('deep offset pages (checkpoint seeks) match the plain query, in id and name order', () =>
      withCatalog(backend, async (catalog) => {
        const { project, dataset } = await projectWithDataset(catalog);
        // Names in reverse of id order, so the two sort keys disagree.
        const count = 12_345;
        for (let start = 0; start < count; start += 2_000) {
          const batch = images(Math.min(2_000, count - start), 'n_', start).map((img, i) => ({
            ...img,
            name: `n_${String(count - start - i).padStart(6, '0')}.jpg`,
          }));
          await catalog.images.addMany(dataset.id, batch);
        }
        // Removing rows shifts positions: cached checkpoints must not survive it.
        const early = await catalog.images.list({ datasetId: dataset.id, limit: 7, offset: 100 });
        const matchAll = [{ field: 'id', operator: '>' as const, value: 0 }];
        for (const round of [0, 1]) {
          for (const query of [
            { offset: 5_000, limit: 1000 },
            { offset: 11_000, limit: 1000 },
            { offset: 12_000, limit: 1000 },
            { offset: 12_345, limit: 10 },
            { offset: 7_777, limit: 3, sortOrder: 'desc' as const },
            { offset: 12_340, limit: 10, sortOrder: 'desc' as const },
            { offset: 6_000, limit: 5, sort: 'name' },
            { offset: 10_001, limit: 5, sort: 'name', sortOrder: 'desc' as const },
          ]) {
            const seeked = await catalog.images.list({ datasetId: dataset.id, ...query });
            const plain = await catalog.images.list({ datasetId: dataset.id, ...query, filters: matchAll });
            assert.deepEqual(ids(seeked.rows), ids(plain.rows), JSON.stringify({ round, query }));
            assert.equal(seeked.total, plain.total);
            const byProject = await catalog.images.list({ projectId: project.id, ...query, sort: 'id' });
            const plainProject = await catalog.images.list({ projectId: project.id, ...query, sort: 'id', filters: matchAll });
            assert.deepEqual(ids(byProject.rows), ids(plainProject.rows));
          }
          if (round === 0) await catalog.images.removeMany(ids(early.rows));
        }
      }));
  });

  describe(`videos (${backend.name})`, () => {
    test('fileMeta round-trips; videos stay out of image projects', () =>
      withCatalog(backend, async (catalog) => {
        const { project, dataset } = await projectWithDataset(catalog, 'videos', 'v');
        const fileMeta = { mime: 'video/mp4', size: '1024', width: 1920, height: 1080, duration: 12.5, framesCount: 300, codecName: 'h264' };
        const [v] = await catalog.videos.addMany(dataset.id, [{ name: 'clip.mp4', size: 1024, fileMeta, hash: 'hv', bucket: 'b', storageKey: 'k' }]);
        assert.deepEqual(v?.fileMeta, fileMeta);
        assert.deepEqual(v?.customData, {});
        assert.deepEqual(await catalog.videos.get(v!.id), v);
        assert.equal(await catalog.images.get(v!.id), undefined);
        assert.equal((await catalog.videos.list({ datasetId: dataset.id, limit: 5 })).total, 1);
        assert.deepEqual(await catalog.images.list({ datasetId: dataset.id, limit: 5 }), { total: 0, rows: [] });
        assert.deepEqual(await catalog.images.list({ projectId: project.id, limit: 5 }), { total: 0, rows: [] });
        assert.deepEqual(await catalog.images.list({ datasetId: dataset.id, recursive: true, limit: 5 }), { total: 0, rows: [] });
        const linked = await catalog.videos.updateLinks([{ id: v!.id, link: 's3://b/clip.mp4' }]);
        assert.deepEqual(linked[0]?.fileMeta, fileMeta);
        assert.equal(await catalog.videos.removeMany([v!.id]), 1);
        assert.equal((await catalog.projects.get(project.id))?.itemsCount, 0);
        const imgs = await projectWithDataset(catalog, 'images', 'i');
        await rejectsWith(catalog.videos.addMany(imgs.dataset.id, [{ name: 'x.mp4' }]), 'InvalidInput');
      }));
  });
}
