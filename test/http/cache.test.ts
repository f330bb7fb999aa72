/**
 * The storage cache as wired in a running Stowage: a remote connection to a
 * real S3 peer (Ceph radosgw), added through the API so its store is built
 * (and cached) as in production; staleness after re-pointing and overwrites;
 * `GET /metrics` and `cache.stats`/`cache.clear`; on both catalogs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import type { CacheStats } from '../../src/cache/disk-cache.ts';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';

let rgw: Radosgw | undefined;
before(async () => { rgw = await startRadosgw(); });
after(async () => { await rgw?.stop(); });

for (const backend of catalogBackends()) {
  describe(`storage cache over a remote connection (${backend.name})`, () => {
    let t: TestApp;
    let s3: S3Store;
    let userKey: string;
    const bucket = `cache-${randomUUID().slice(0, 8)}`;
    const jpegs: Buffer[] = [];
    const put = (key: string, data: Buffer) => s3.put(bucket, key, Readable.from([data]), { size: data.length, contentType: 'image/jpeg' });
    const storageStats = async (): Promise<CacheStats> => {
      const reply = await t.ok<{ caches: CacheStats[] }>('cache.stats', { tier: 'storage' });
      assert.equal(reply.caches.length, 1);
      return reply.caches[0] as CacheStats;
    };
    const download = async (id: number, headers: Record<string, string> = {}) => {
      const res = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ id }),
      });
      assert.ok(res.ok, `download ${id}: ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    };

    before(async () => {
      const peer = await startRadosgw();
      s3 = createS3Store({ endpoint: peer.endpoint, accessKey: peer.accessKey, secretKey: peer.secretKey });
      await s3.ensureBucket(bucket);
      for (let i = 0; i < 3; i++) jpegs.push(await makeJpeg(160 + i, 120, { seed: 70 + i }));
      await put('a.jpg', jpegs[0] as Buffer);
      await put('b.jpg', jpegs[1] as Buffer);
      t = await startTestApp(backend.url());
      userKey = (await t.app.services.auth.createKey('cache-user', 'user')).key;
      await t.ok('remote-storage.connections.add', {
        name: 'rgw', provider: 'minio', endpoint: peer.endpoint, access_key: peer.accessKey, secret_key: peer.secretKey, buckets: [bucket],
      });
    });
    after(async () => {
      await t?.close();
      await s3?.close();
    });

    it('serves linked originals from the cache, never stale after re-pointing or an overwrite', async () => {
      const p = await t.ok('projects.add', { name: 'cached', workspaceId: 1, type: 'images' });
      const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
      const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'a.jpg', link: `s3://${bucket}/a.jpg` }] });
      const start = await storageStats();
      assert.ok((await download(img.id)).equals(jpegs[0] as Buffer));
      await t.app.services.caches.storage.drain();
      assert.ok((await download(img.id)).equals(jpegs[0] as Buffer));
      const ranged = await download(img.id, { range: 'bytes=100-199' });
      assert.ok(ranged.equals((jpegs[0] as Buffer).subarray(100, 200)));
      const cached = await storageStats();
      assert.equal(cached.bytesFetched - start.bytesFetched, (jpegs[0] as Buffer).length, 'fetched once');
      assert.ok(cached.hits - start.hits >= 2, `${cached.hits - start.hits} hits`);
      assert.ok(cached.bytesServed - start.bytesServed >= (jpegs[0] as Buffer).length + 100);
      await t.ok('images.update.links', { images: [{ id: img.id, link: `s3://${bucket}/b.jpg` }] });
      assert.ok((await download(img.id)).equals(jpegs[1] as Buffer), 're-pointed item serves its new link');
      await t.app.services.caches.storage.drain();
      await put('b.jpg', jpegs[2] as Buffer);
      assert.ok((await download(img.id)).equals(jpegs[2] as Buffer), 'overwritten object is refetched');
      const remotePath = await fetch(`${t.baseUrl}/remote/s3/${bucket}/b.jpg`, { headers: { 'x-api-key': t.adminKey, range: 'bytes=0-9' } });
      assert.equal(remotePath.status, 206);
      assert.ok(Buffer.from(await remotePath.arrayBuffer()).equals((jpegs[2] as Buffer).subarray(0, 10)));
    });

    it('exposes the caches as Prometheus metrics to admin keys only', async () => {
      assert.equal((await fetch(`${t.baseUrl}/metrics`)).status, 401);
      assert.equal((await fetch(`${t.baseUrl}/metrics`, { headers: { 'x-api-key': userKey } })).status, 403);
      const res = await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (const tier of ['storage', 'previews', 'converter']) {
        for (const metric of ['hits_total', 'misses_total', 'served_bytes_total', 'fetched_bytes_total', 'evictions_total', 'size_bytes', 'entries']) {
          assert.match(text, new RegExp(`^stowage_cache_${metric}\\{cache="${tier}"\\} \\d+$`, 'm'), `${metric} ${tier}`);
        }
      }
      assert.match(text, /^# TYPE stowage_cache_hits_total counter$/m);
      assert.match(text, /^stowage_cache_max_bytes\{cache="storage"\} 10737418240$/m);
      assert.match(text, /^stowage_cache_size_bytes\{cache="memory"\} \d+$/m);
      const hits = Number(/^stowage_cache_hits_total\{cache="storage"\} (\d+)$/m.exec(text)?.[1]);
      assert.ok(hits >= 2);
    });

    it('reports and clears the caches through the API, for admins', async () => {
      assert.equal((await t.call('cache.stats', {}, userKey)).status, 403);
      const all = await t.ok<{ caches: CacheStats[]; memory: { maxBytes: number } }>('cache.stats');
      assert.deepEqual(all.caches.map((c) => c.name), ['storage', 'previews', 'converter']);
      assert.equal(all.memory.maxBytes, 128 * 1024 * 1024);
      assert.ok((await storageStats()).entries >= 1);
      const bad = await t.call('cache.stats', { tier: 'disk' });
      assert.equal(bad.status, 400);
      const cleared = await t.ok<{ cleared: Array<{ name: string; entries: number }> }>('cache.clear', { tier: 'storage' });
      assert.equal(cleared.cleared[0]?.name, 'storage');
      assert.ok((cleared.cleared[0]?.entries ?? 0) >= 1);
      const after = await storageStats();
      assert.deepEqual([after.entries, after.sizeBytes], [0, 0]);
    });
  });
}
