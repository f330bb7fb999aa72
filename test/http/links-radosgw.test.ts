/**
 * Linked images end to end against a real S3 peer (Ceph radosgw): the
 * connection is an S3 store, objects are uploaded with it, then registered by
 * link, imported from a links file and listed, on both catalogs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { countingStore, type CountingStore } from '../helpers/counting-store.ts';
import { makeJpeg, makeMetadataHeavyJpeg } from '../helpers/media-fixtures.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';

let rgw: Radosgw | undefined;
before(async () => { rgw = await startRadosgw(); });
after(async () => { await rgw?.stop(); });

for (const backend of catalogBackends()) {
  describe(`linked images on radosgw (${backend.name})`, () => {
    let t: TestApp;
    let s3: S3Store;
    let counted: CountingStore;
    const bucket = `links-${randomUUID().slice(0, 8)}`;
    const files = new Map<string, Buffer>();

    before(async () => {
      const peer = await startRadosgw();
      s3 = createS3Store({ endpoint: peer.endpoint, accessKey: peer.accessKey, secretKey: peer.secretKey });
      await s3.ensureBucket(bucket);
      files.set('plain/a.jpg', await makeJpeg(320, 240, { seed: 1 }));
      files.set('camera/exif.jpg', await makeMetadataHeavyJpeg(1024, 768, { exifChars: 60_000, xmpSegments: 2, seed: 2 }));
      for (let i = 0; i < 5; i++) files.set(`batch/${i}.jpg`, await makeJpeg(100 + i, 50 + i, { seed: 10 + i }));
      for (const [key, bytes] of files) await s3.put(bucket, key, Readable.from([bytes]), { size: bytes.length, contentType: 'image/jpeg' });
      counted = countingStore(s3);
      t = await startTestApp(backend.url());
      t.app.services.links.set({ name: 'rgw', provider: 'minio', store: counted, buckets: [bucket] });
    });
    after(async () => {
      await t?.close();
      await s3?.close();
    });

    it('registers S3 links with header metadata, reading only the objects\' starts', async () => {
      const p = await t.ok('projects.add', { name: 'rgw', workspaceId: 1, type: 'images' });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'add' })).id;
      counted.reset();
      const rows = await t.ok('images.bulk.add', {
        datasetId: ds, forceMetadataForLinks: true,
        images: [{ title: 'a.jpg', link: `s3://${bucket}/plain/a.jpg` }, { title: 'exif.jpg', link: `s3://${bucket}/camera/exif.jpg` }],
      });
      const exif = files.get('camera/exif.jpg') as Buffer;
      assert.deepEqual(rows.map((r: any) => [r.width, r.height, r.size, r.mime]), [
        [320, 240, (files.get('plain/a.jpg') as Buffer).length, 'image/jpeg'], [1024, 768, exif.length, 'image/jpeg'],
      ]);
      assert.ok(counted.stats.bytes < 32 * 1024, `${counted.stats.bytes} bytes read for two images (${exif.length} bytes in the EXIF one)`);
      const dl = await t.call('images.download', { id: rows[1].id });
      assert.deepEqual(Buffer.from(await dl.arrayBuffer()), exif);
      const gone = await t.call('images.bulk.add', { datasetId: ds, images: [{ title: 'x.jpg', link: `s3://${bucket}/plain/missing.jpg` }] });
      assert.equal(gone.status, 400);
      assert.match(await gone.text(), /plain\/missing\.jpg does not exist/);
    });

    it('imports a links file and lists the bucket', async () => {
      const p = await t.ok('projects.add', { name: 'rgw-import', workspaceId: 1, type: 'images' });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'import' })).id;
      const text = `${[...files.keys()].filter((k) => k.startsWith('batch/')).map((k) => `s3://${bucket}/${k}`).join('\n')}\ns3://${bucket}/batch/none.jpg\n`;
      const form = new FormData();
      form.append('datasetId', String(ds));
      form.append('file', new Blob([text]), 'links.txt');
      const res = await fetch(`${t.baseUrl}/public/api/v3/images.links.import`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: form });
      const report = await res.json() as { imported: number; errors: Array<{ line: number }> };
      assert.deepEqual([report.imported, report.errors.map((e) => e.line)], [5, [6]]);
      const listed = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.list?${new URLSearchParams({ path: `s3://${bucket}/`, recursive: 'False', limit: '10' })}`, { headers: { 'x-api-key': t.adminKey } });
      const items = await listed.json() as Array<{ type: string; name: string }>;
      assert.deepEqual(items.map((i) => `${i.type}:${i.name}`), ['folder:batch', 'folder:camera', 'folder:plain']);
    });
  });
}
