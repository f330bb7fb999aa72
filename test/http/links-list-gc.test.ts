import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';

const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

interface ListItem { type: string; name: string; prefix: string; path: string; size: number; updatedAt: string | null }

async function list(t: TestApp, query: Record<string, string>): Promise<ListItem[]> {
  const res = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.list?${new URLSearchParams(query)}`, { headers: { 'x-api-key': t.adminKey } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as ListItem[];
}

/** Runs the CLI against the test app's DATA_PATH and catalog. */
function stowage(t: TestApp, args: string[]) {
  const env = { PATH: process.env['PATH'] ?? '', DATA_PATH: t.dataPath, CATALOG_URL: t.config.catalogUrl, ENV_FILE: join(t.dataPath, 'none.env') };
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const exists = (path: string) => access(path).then(() => true, () => false);

for (const backend of catalogBackends()) {
  describe(`remote-storage.list and gc (${backend.name})`, () => {
    let t: TestApp;
    let root: string;
    let store: LocalStore;
    before(async () => {
      t = await startTestApp(backend.url());
      root = await mkdtemp(join(tmpdir(), 'stowage-list-'));
      store = createLocalStore({ root });
      await store.ensureBucket('cv-data');
      t.app.services.links.set({ name: 'cv', provider: 'minio', store, buckets: ['cv-data'] });
      const keys = [...Array.from({ length: 25 }, (_, i) => `list/f-${String(i).padStart(2, '0')}.jpg`), 'list/sub/x.jpg', 'list/sub2/y.jpg', 'top.jpg'];
      for (const key of keys) await store.put('cv-data', key, Readable.from([Buffer.from(key)]));
    });
    after(async () => {
      await t?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('pages one folder level with startAfter = {prefix}/{name}, files then folders in key order', async () => {
      const seen: ListItem[] = [];
      let startAfter = '';
      for (let page = 0; page < 10; page++) {
        const items = await list(t, { path: 's3://cv-data/list/', recursive: 'False', files: 'True', folders: 'True', limit: '10', startAfter });
        if (items.length === 0) break;
        seen.push(...items);
        const last = items.at(-1) as ListItem;
        startAfter = `${last.prefix}/${last.name}`;
      }
      assert.equal(seen.length, 27);
      assert.deepEqual(seen[0], { type: 'file', name: 'f-00.jpg', prefix: 'list', path: 's3://cv-data/list/f-00.jpg', size: 'list/f-00.jpg'.length, updatedAt: seen[0]?.updatedAt });
      assert.ok(!Number.isNaN(Date.parse(seen[0]?.updatedAt ?? '')));
      assert.deepEqual(seen.slice(-2).map((i) => [i.type, i.name, i.prefix, i.path]), [
        ['folder', 'sub', 'list', 's3://cv-data/list/sub/'], ['folder', 'sub2', 'list', 's3://cv-data/list/sub2/'],
      ]);
    });

    it('lists recursively, filters files or folders, and finds one file by path', async () => {
      const all = await list(t, { path: 's3://cv-data/', recursive: 'True', limit: '10000' });
      assert.equal(all.length, 28);
      assert.ok(all.every((i) => i.type === 'file'));
      assert.deepEqual(all.at(-1), { ...all.at(-1), name: 'top.jpg', prefix: '' });
      const folders = await list(t, { path: 's3://cv-data/list/', recursive: 'False', files: 'False', folders: 'True' });
      assert.deepEqual(folders.map((f) => f.name), ['sub', 'sub2']);
      const one = await list(t, { path: 's3://cv-data/list/f-03.jpg', recursive: 'False', files: 'True', folders: 'False', limit: '1', startAfter: '' });
      assert.deepEqual(one.map((i) => i.path), ['s3://cv-data/list/f-03.jpg']);
      const res = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.list?path=${encodeURIComponent('s3://private-bucket/')}`, { headers: { 'x-api-key': t.adminKey } });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /private-bucket/);
    });

    it('gc --dry-run lists unreferenced blobs; gc removes only those', async () => {
      const p = await t.ok('projects.add', { name: 'gc', workspaceId: 1, type: 'images' });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
      const files = [await makeJpeg(20, 20, { seed: 31 }), await makeJpeg(21, 21, { seed: 32 }), await makeJpeg(22, 22, { seed: 33 })];
      const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm(files) });
      const hashes = (await up.json() as Array<{ hash: string }>).map((h) => h.hash);
      const [kept, removed, relinked] = await t.ok('images.bulk.add', { datasetId: ds, images: hashes.map((hash, i) => ({ title: `${i}.jpg`, hash })) });
      await t.ok('images.bulk.remove', { imageIds: [removed.id] });
      await store.put('cv-data', 'moved/2.jpg', Readable.from([files[2] as Buffer]));
      await t.ok('images.update.links', { images: [{ id: relinked.id, link: 's3://cv-data/moved/2.jpg' }], clearLocalDataSource: true });
      const onDisk = (item: { pathOriginal: string }) => join(t.dataPath, 'storage', item.pathOriginal);

      const young = stowage(t, ['gc', '--dry-run']);
      assert.equal(young.code, 0, young.err);
      assert.match(young.out, /would remove 0 blob\(s\)/);
      assert.match(young.out, /kept 2 unreferenced blob\(s\) younger than --min-age/);

      const dry = stowage(t, ['gc', '--dry-run', '--min-age', '0s']);
      assert.equal(dry.code, 0, dry.err);
      const listed = dry.out.split('\n').filter((l) => l.includes('\t'));
      assert.deepEqual(listed.sort(), [removed, relinked].map((i) => `${i.pathOriginal.slice(1)}\t${i.size}`).sort());
      assert.match(dry.out, new RegExp(`would remove 2 blob\\(s\\), ${removed.size + relinked.size} bytes`));
      assert.ok(await exists(onDisk(removed)), 'a dry run deletes nothing');

      const run = stowage(t, ['gc', '--min-age', '0s']);
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /removed 2 blob\(s\)/);
      assert.deepEqual([await exists(onDisk(kept)), await exists(onDisk(removed)), await exists(onDisk(relinked))], [true, false, false]);
      assert.deepEqual(await t.ok('images.internal.hashes.list', hashes), [hashes[0]]);
      const dl = await t.call('images.download', { id: relinked.id });
      assert.deepEqual(Buffer.from(await dl.arrayBuffer()), files[2], 'the relinked image is served from its link');
      assert.match(stowage(t, ['gc', '--dry-run', '--min-age', '0s']).out, /would remove 0 blob\(s\)/);
    });
  });
}
