import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';

for (const backend of catalogBackends()) {
  describe(`storage paths (${backend.name})`, () => {
    let t: TestApp;
    let path: string;
    let bytes: Buffer;
    before(async () => {
      t = await startTestApp(backend.url());
      bytes = await makeJpeg(40, 30, { seed: 9 });
      const res = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([bytes]),
      });
      assert.equal(res.status, 200);
      const p = await t.ok('projects.add', { name: 'paths', workspaceId: 1 });
      const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
      const hash = createHash('sha256').update(bytes).digest('base64');
      const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'p.jpg', hash }] });
      path = img.pathOriginal;
    });
    after(async () => { await t?.close(); });

    it('serves pathOriginal to an API key with ETag, Range and 304', async () => {
      const res = await fetch(t.baseUrl + path, { headers: { 'x-api-key': t.adminKey } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      const etag = res.headers.get('etag');
      assert.ok(etag);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
      const ranged = await fetch(t.baseUrl + path, { headers: { 'x-api-key': t.adminKey, range: 'bytes=-10' } });
      assert.equal(ranged.status, 206);
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(bytes.length - 10));
      const cached = await fetch(t.baseUrl + path, { headers: { 'x-api-key': t.adminKey, 'if-none-match': etag } });
      assert.equal(cached.status, 304);
      const head = await fetch(t.baseUrl + path, { method: 'HEAD', headers: { 'x-api-key': t.adminKey } });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(bytes.length));
    });

    it('refuses anonymous reads: both buckets are private', async () => {
      const res = await fetch(t.baseUrl + path);
      assert.equal(res.status, 401);
      assert.ok((await res.json() as { error: string }).error);
    });

    it('serves a signed URL until it expires and refuses a tampered one', async () => {
      const good = t.app.services.signer.sign(path, new Date(Date.now() + 60_000));
      assert.equal((await fetch(`${t.baseUrl}${path}?${good}`)).status, 200);
      const expired = t.app.services.signer.sign(path, new Date(Date.now() - 1000));
      assert.equal((await fetch(`${t.baseUrl}${path}?${expired}`)).status, 401);
      const other = t.app.services.signer.sign(`${path}x`, new Date(Date.now() + 60_000));
      assert.equal((await fetch(`${t.baseUrl}${path}?${other}`)).status, 401);
    });

    it('mints signed URLs with storage.sign for our buckets only', async () => {
      const { url, expiresAt } = await t.ok('storage.sign', { path, expiresIn: 60 });
      assert.ok(Date.parse(expiresAt) > Date.now());
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
      const bad = await t.call('storage.sign', { path: '/etc/passwd' });
      assert.equal(bad.status, 400);
    });

    it('answers 404 for a missing key and refuses traversal', async () => {
      const res = await fetch(`${t.baseUrl}/stowage-public/images/none.jpg`, { headers: { 'x-api-key': t.adminKey } });
      assert.equal(res.status, 404);
      const trav = await fetch(`${t.baseUrl}/stowage-public/%2e%2e/%2e%2e/catalog.sqlite`, { headers: { 'x-api-key': t.adminKey } });
      assert.ok(trav.status === 400 || trav.status === 404, String(trav.status));
      const other = await fetch(`${t.baseUrl}/other-bucket/x`, { headers: { 'x-api-key': t.adminKey } });
      assert.equal(other.status, 404);
    });
  });
}
