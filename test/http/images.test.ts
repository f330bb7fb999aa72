import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg, makePng } from '../helpers/media-fixtures.ts';
import { linkBucket } from '../helpers/link-bucket.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

/** The SDK's upload_paths flow: hash locally, ask which exist, upload the rest, register by hash. */
async function sdkUpload(t: TestApp, datasetId: number, files: Array<{ name: string; bytes: Buffer }>): Promise<any[]> {
  const hashes = files.map((f) => sha(f.bytes));
  const existing = new Set<string>(await t.ok('images.internal.hashes.list', hashes));
  const missing = files.filter((_, i) => !existing.has(hashes[i] as string));
  if (missing.length > 0) {
    const res = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, {
      method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm(missing.map((f) => f.bytes)),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const results = await res.json() as Array<{ hash: string }>;
    assert.deepEqual(results.map((r) => r.hash), missing.map((f) => sha(f.bytes)));
  }
  return t.ok('images.bulk.add', { datasetId, images: files.map((f, i) => ({ title: f.name, hash: hashes[i] })) });
}

for (const backend of catalogBackends()) {
  describe(`images API (${backend.name})`, () => {
    let t: TestApp;
    let datasetId: number;
    let jpeg: Buffer;
    let png: Buffer;
    before(async () => {
      t = await startTestApp(backend.url());
      const p = await t.ok('projects.add', { name: 'imgs', workspaceId: 1, type: 'images' });
      datasetId = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
      jpeg = await makeJpeg(64, 48, { seed: 1 });
      png = await makePng(30, 20, { seed: 2 });
    });
    after(async () => { await t?.close(); });

    it('uploads like the SDK and reports header dimensions, mime, hash and absolute URLs', async () => {
      const [a, b] = await sdkUpload(t, datasetId, [{ name: 'a.jpg', bytes: jpeg }, { name: 'b.png', bytes: png }]);
      assert.equal(a.name, 'a.jpg');
      assert.equal(a.width, 64);
      assert.equal(a.height, 48);
      assert.equal(a.mime, 'image/jpeg');
      assert.equal(a.size, jpeg.length);
      assert.equal(a.hash, sha(jpeg));
      assert.equal(a.link, null);
      assert.match(a.pathOriginal, /^\/stowage-public\/images\/original\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.jpg$/);
      assert.equal(a.fullStorageUrl, t.baseUrl + a.pathOriginal);
      assert.equal(b.mime, 'image/png');
      assert.equal(b.width, 30);
    });

    it('stores the same bytes once and answers hashes.list with the stored ones', async () => {
      const before = (await listFiles(join(t.dataPath, 'storage', 'stowage-public'))).length;
      await sdkUpload(t, datasetId, [{ name: 'a-again.jpg', bytes: jpeg }]);
      const res = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([jpeg]),
      });
      assert.equal(res.status, 200);
      assert.equal((await listFiles(join(t.dataPath, 'storage', 'stowage-public'))).length, before);
      const unknown = sha(Buffer.from('never uploaded'));
      assert.deepEqual(await t.ok('images.internal.hashes.list', [sha(jpeg), unknown]), [sha(jpeg)]);
    });

    it('reports a non-image part as an error and leaves no file behind', async () => {
      const res = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([Buffer.from('plain text, not an image'), png]),
      });
      assert.equal(res.status, 200);
      const results = await res.json() as Array<{ hash?: string; errors?: string }>;
      assert.match(String(results[0]?.errors), /not a supported image/);
      assert.equal(results[1]?.hash, sha(png));
      // Small uploads never touch the disk, so the folder may not even exist.
      assert.deepEqual(await readdir(join(t.dataPath, 'tmp', 'uploads')).catch(() => []), []);
    });

    it('answers every part of a large batch in part order, the bad ones included', async () => {
      const good = await Promise.all(Array.from({ length: 11 }, (_, i) => makeJpeg(16 + i, 12, { seed: 500 + i })));
      const parts = good.flatMap((b, i) => (i % 4 === 1 ? [Buffer.from(`not an image ${i}`), b] : [b]));
      const res = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm(parts) });
      assert.equal(res.status, 200);
      const results = await res.json() as Array<{ hash?: string; errors?: string }>;
      assert.equal(results.length, parts.length);
      parts.forEach((b, i) => {
        if (b.length < 40) assert.match(String(results[i]?.errors), /not a supported image/);
        else assert.equal(results[i]?.hash, sha(b), `part ${i}`);
      });
      assert.deepEqual((await t.ok('images.internal.hashes.list', good.map(sha)) as string[]).sort(), good.map(sha).sort());
    });

    it('answers NONUNIQUE for a taken name and adds nothing of the batch', async () => {
      const p = await t.ok('projects.add', { name: 'nonunique', workspaceId: 1 });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
      const [first] = await sdkUpload(t, ds, [{ name: 'x.jpg', bytes: jpeg }]);
      const res = await t.call('images.bulk.add', { datasetId: ds, images: [{ title: 'y.jpg', hash: sha(jpeg) }, { title: 'x.jpg', hash: sha(jpeg) }] });
      assert.equal(res.status, 400);
      const body = await res.json() as { details: { type: string; errors: Array<{ name: string; id: number }> } };
      assert.equal(body.details.type, 'NONUNIQUE');
      assert.deepEqual(body.details.errors, [{ name: 'x.jpg', id: first.id }]);
      const list = await t.ok('images.list', { datasetId: ds });
      assert.equal(list.total, 1);
    });

    it('refuses bulk.add of an unknown hash naming the entry', async () => {
      const res = await t.call('images.bulk.add', { datasetId, images: [{ title: 'ghost.jpg', hash: sha(Buffer.from('ghost')) }] });
      assert.equal(res.status, 400);
      const body = await res.json() as { details: { field: string } };
      assert.equal(body.details.field, 'images.0.hash');
    });

    it('adds images by link and validates the link form', async () => {
      await linkBucket(t, 'bucket', { 'path/remote.jpg': jpeg });
      const [img] = await t.ok('images.bulk.add', { datasetId, images: [{ title: 'remote.jpg', link: 's3://bucket/path/remote.jpg' }] });
      assert.equal(img.link, 's3://bucket/path/remote.jpg');
      assert.deepEqual([img.width, img.height, img.size], [64, 48, jpeg.length]);
      assert.equal(img.pathOriginal, '/remote/s3/bucket/path/remote.jpg');
      const bad = await t.call('images.bulk.add', { datasetId, images: [{ title: 'bad.jpg', link: 'ftp://x/y' }] });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json() as { details: { field: string } }).details.field, 'images.0.link');
    });

    it('downloads with checksum, ranges and a form-encoded id', async () => {
      const [img] = await sdkUpload(t, datasetId, [{ name: 'dl.png', bytes: png }]);
      const full = await t.call('images.download', { id: img.id });
      assert.equal(full.status, 200);
      assert.equal(full.headers.get('x-content-checksum-sha256'), sha(png));
      assert.equal(full.headers.get('accept-ranges'), 'bytes');
      assert.deepEqual(Buffer.from(await full.arrayBuffer()), png);
      const part = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': t.adminKey, range: 'bytes=4-9' },
        body: JSON.stringify({ id: img.id }),
      });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 4-9/${png.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), png.subarray(4, 10));
      const form = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey }, body: new URLSearchParams({ id: String(img.id) }),
      });
      assert.equal(form.status, 200);
      assert.deepEqual(Buffer.from(await form.arrayBuffer()), png);
      const past = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': t.adminKey, range: `bytes=${png.length}-` },
        body: JSON.stringify({ id: img.id }),
      });
      assert.equal(past.status, 416);
      assert.equal((await t.call('images.download', { id: 987654 })).status, 404);
    });

    it('downloads a batch as multipart parts named by image id', async () => {
      const imgs = await sdkUpload(t, datasetId, [{ name: 'b1.jpg', bytes: jpeg }, { name: 'b2.png', bytes: png }]);
      const res = await t.call('images.bulk.download', { datasetId, imageIds: imgs.map((i: { id: number }) => i.id) });
      assert.equal(res.status, 200);
      const type = res.headers.get('content-type') ?? '';
      assert.match(type, /^multipart\/mixed; boundary=/);
      const raw = Buffer.from(await res.arrayBuffer());
      for (const [i, img] of imgs.entries()) {
        const marker = `name="${img.id}"`;
        const at = raw.indexOf(marker);
        assert.ok(at > 0, marker);
        const start = raw.indexOf('\r\n\r\n', at) + 4;
        const bytes = i === 0 ? jpeg : png;
        assert.deepEqual(raw.subarray(start, start + bytes.length), bytes);
      }
    });

    it('lists images with pages, tokens and filters', async () => {
      const p = await t.ok('projects.add', { name: 'listing', workspaceId: 1 });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
      const files = await Promise.all([0, 1, 2, 3, 4].map(async (i) => ({ name: `img${i}.jpg`, bytes: await makeJpeg(8, 8, { seed: 100 + i }) })));
      await sdkUpload(t, ds, files);
      const page = await t.ok('images.list', { datasetId: ds, per_page: 2, page: 2, sort: 'id', sort_order: 'asc' });
      assert.equal(page.total, 5);
      assert.equal(page.pagesCount, 3);
      assert.deepEqual(page.entities.map((e: { name: string }) => e.name), ['img2.jpg', 'img3.jpg']);
      const byName = await t.ok('images.list', { datasetId: ds, filter: [{ field: 'name', operator: '=', value: 'img4.jpg' }] });
      assert.equal(byName.total, 1);
      const names: string[] = [];
      let after: string | null = null;
      do {
        const r: { entities: Array<{ name: string }>; after: string | null } =
          await t.ok('images.list', { datasetId: ds, per_page: 2, pagination_mode: 'token', ...(after ? { after } : {}) });
        names.push(...r.entities.map((e) => e.name));
        after = r.after;
      } while (after);
      assert.deepEqual(names, files.map((f) => f.name));
      const byProject = await t.ok('images.list', { projectId: p.id });
      assert.equal(byProject.total, 5);
    });

    it('repoints images at links in one call and refuses bad batches whole', async () => {
      const imgs = await sdkUpload(t, datasetId, [{ name: 'mv1.jpg', bytes: jpeg }, { name: 'mv2.png', bytes: png }]);
      await linkBucket(t, 'migration-bucket', { 'p/mv1.jpg': jpeg, 'p/mv2.png': png });
      const res = await t.ok('images.update.links', {
        images: imgs.map((i: { id: number; name: string }) => ({ id: i.id, link: `s3://migration-bucket/p/${i.name}` })),
        clearLocalDataSource: true,
      });
      assert.equal(res.success, true);
      const info = await t.ok('images.info', { id: imgs[0].id });
      assert.equal(info.link, 's3://migration-bucket/p/mv1.jpg');
      assert.equal(info.hash, sha(jpeg));
      const bad = await t.call('images.update.links', { images: [{ id: imgs[1].id, link: 'not a link' }] });
      assert.equal(bad.status, 400);
      const missing = await t.call('images.update.links', { images: [{ id: 999999, link: 's3://migration-bucket/p/mv1.jpg' }] });
      assert.equal(missing.status, 404);
      const tooMany = await t.call('images.update.links', { images: Array.from({ length: 1001 }, (_, i) => ({ id: i + 1, link: 's3://b/k' })) });
      assert.equal(tooMany.status, 400);
    });

    it('removes images in bulk and keeps their stored bytes for other items', async () => {
      const [a, b] = await sdkUpload(t, datasetId, [{ name: 'rm1.jpg', bytes: jpeg }, { name: 'keep.jpg', bytes: jpeg }]);
      const res = await t.ok('images.bulk.remove', { imageIds: [a.id] });
      assert.equal(res.success, true);
      assert.equal((await t.call('images.info', { id: a.id })).status, 404);
      assert.equal((await t.call('images.download', { id: b.id })).status, 200);
    });
  });
}
