import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';

const MiB = 1024 * 1024;

/** A chunked multipart body (no Content-Length) of `path` + `file`, generated on the fly. */
function streamedUpload(dest: string, totalBytes: number, digest: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  const boundary = 'stowageTestBoundary';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n${dest}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  let sent = 0;
  let stage = 0;
  return new ReadableStream({
    pull(controller) {
      if (stage === 0) { controller.enqueue(new TextEncoder().encode(head)); stage = 1; return; }
      if (stage === 1 && sent < totalBytes) {
        const n = Math.min(MiB, totalBytes - sent);
        const chunk = Buffer.alloc(n, sent % 251);
        chunk.writeUInt32BE(sent, 0);
        digest.update(chunk);
        sent += n;
        controller.enqueue(chunk);
        return;
      }
      controller.enqueue(new TextEncoder().encode(`\r\n--${boundary}--\r\n`));
      controller.close();
    },
  });
}

for (const backend of catalogBackends()) {
  describe(`remote-storage methods (${backend.name})`, () => {
    let t: TestApp;
    let root: string;
    before(async () => {
      t = await startTestApp(backend.url());
      root = await mkdtemp(join(tmpdir(), 'stowage-remote-'));
      const store = createLocalStore({ root });
      await store.ensureBucket('shared');
      t.app.services.links.set({ name: 'host-folder', provider: 'fs', store, buckets: ['shared'] });
    });
    after(async () => {
      await t?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('streams a chunked multipart upload of unknown length to the destination', async () => {
      const digest = createHash('sha256');
      const res = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.upload?teamId=1`, {
        method: 'POST',
        headers: { 'x-api-key': t.adminKey, 'content-type': 'multipart/form-data; boundary=stowageTestBoundary' },
        body: streamedUpload('fs://shared/migrated/big.bin', 24 * MiB + 17, digest),
        duplex: 'half',
      } as RequestInit);
      assert.equal(res.status, 200, await res.clone().text());
      const body = await res.json() as { success: boolean; files: Array<{ size: number }> };
      assert.equal(body.success, true);
      assert.equal(body.files[0]?.size, 24 * MiB + 17);
      const exists = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.exists?path=${encodeURIComponent('fs://shared/migrated/big.bin')}`, { headers: { 'x-api-key': t.adminKey } });
      assert.deepEqual(await exists.json(), { exists: true });
      const stat = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.stat?path=${encodeURIComponent('fs://shared/migrated/big.bin')}`, { headers: { 'x-api-key': t.adminKey } });
      assert.equal((await stat.json() as { size: number }).size, 24 * MiB + 17);
      const dl = await t.call('remote-storage.download', { link: 'fs://shared/migrated/big.bin' });
      assert.equal(dl.status, 200);
      const got = createHash('sha256');
      for await (const chunk of dl.body as AsyncIterable<Uint8Array>) got.update(chunk);
      assert.equal(got.digest('hex'), digest.digest('hex'));
    });

    it('names the bucket when no connection allows it', async () => {
      const form = new FormData();
      form.append('path', 's3://not-allowed/x.bin');
      form.append('file', new Blob([Buffer.from('abc')]), 'x.bin');
      const res = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: form });
      assert.equal(res.status, 400);
      assert.match((await res.json() as { error: string }).error, /not-allowed/);
    });

    it('answers exists:false and 404 stat for a missing object', async () => {
      const q = encodeURIComponent('fs://shared/none.bin');
      const ex = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.exists?path=${q}`, { headers: { 'x-api-key': t.adminKey } });
      assert.deepEqual(await ex.json(), { exists: false });
      const st = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.stat?path=${q}`, { headers: { 'x-api-key': t.adminKey } });
      assert.equal(st.status, 404);
    });

    it('serves a linked image through images.download', async () => {
      const p = await t.ok('projects.add', { name: 'linked', workspaceId: 1 });
      const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
      // Not an image: registered without metadata, served as bytes.
      const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, forceMetadataForLinks: false, images: [{ title: 'big.bin', link: 'fs://shared/migrated/big.bin' }] });
      const res = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey, 'content-type': 'application/json', range: 'bytes=0-3' },
        body: JSON.stringify({ id: img.id }),
      });
      assert.equal(res.status, 206);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.from([0, 0, 0, 0]));
    });
  });
}
