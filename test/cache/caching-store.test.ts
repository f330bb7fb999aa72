/**
 * The storage cache layer over a real S3 peer (Ceph radosgw). Remote reads are
 * counted by a counting wrapper around the S3 store, the layer's only origin.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DiskCache } from '../../src/cache/disk-cache.ts';
import { withCache } from '../../src/cache/caching-store.ts';
import { isStorageError } from '../../src/storage/errors.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';
import { countingStore, type CountingStore } from '../helpers/counting-store.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';

const KiB = 1024;

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A content-addressed key, as Stowage stores originals. */
function addressed(data: Buffer): string {
  const h = createHash('sha256').update(data).digest('hex');
  return `images/original/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}.jpg`;
}

let rgw: Radosgw | undefined;
before(async () => { rgw = await startRadosgw(); });
after(async () => { await rgw?.stop(); });

describe('cache layer over S3 (radosgw)', () => {
  const bucket = `cache-${randomUUID().slice(0, 8)}`;
  let dir: string;
  let s3: S3Store;
  let remote: CountingStore;
  let cache: DiskCache;
  let layer: ObjectStore;
  const open = async () => {
    cache = await DiskCache.open({ dir, maxBytes: 64 * 1024 * KiB, maxAgeMs: 3_600_000, name: 'storage' });
    layer = withCache(remote, cache, { scope: 'primary', rangePassThroughBytes: 64 * KiB });
  };
  const putRemote = (key: string, data: Buffer) => s3.put(bucket, key, Readable.from([data]), { size: data.length, contentType: 'image/jpeg' });
  /** Random bytes stored in the bucket (not through the layer) at their content address. */
  const stored = async (size: number) => {
    const data = randomBytes(size);
    const key = addressed(data);
    await putRemote(key, data);
    return { data, key };
  };

  before(async () => {
    const peer = await startRadosgw();
    dir = await mkdtemp(join(tmpdir(), 'stowage-caching-store-'));
    s3 = createS3Store({ endpoint: peer.endpoint, accessKey: peer.accessKey, secretKey: peer.secretKey });
    await s3.ensureBucket(bucket);
    remote = countingStore(s3);
    await open();
  });
  after(async () => {
    await cache?.close();
    await s3?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('100 concurrent reads of an uncached object make one remote read', async () => {
    const { data, key } = await stored(300 * KiB);
    remote.reset();
    const before = cache.stats();
    const results = await Promise.all(Array.from({ length: 100 }, () => layer.get(bucket, key)));
    const bodies = await Promise.all(results.map((r) => readAll(r.body)));
    for (const b of bodies) assert.ok(b.equals(data));
    await cache.drain();
    await new Promise((r) => setImmediate(r)); // readers count their bytes as they close
    assert.equal(remote.stats.gets, 1);
    assert.equal(remote.stats.bytes, data.length);
    const after = cache.stats();
    assert.equal(after.misses - before.misses, 100);
    assert.equal(after.bytesFetched - before.bytesFetched, data.length);
    assert.ok(after.bytesServed - before.bytesServed >= 99 * data.length - 1);
    assert.ok((await readAll((await layer.get(bucket, key)).body)).equals(data));
    assert.equal(remote.stats.gets, 1);
    assert.equal(cache.stats().hits - after.hits, 1);
  });

  it('a client that disconnects does not cancel the read for the others', async () => {
    const { data, key } = await stored(200 * KiB);
    remote.reset();
    const [first, ...rest] = await Promise.all(Array.from({ length: 5 }, () => layer.get(bucket, key)));
    first?.body.destroy();
    for (const r of rest) assert.ok((await readAll(r.body)).equals(data));
    await cache.drain();
    assert.equal(remote.stats.gets, 1);
    assert.ok(cache.peek(JSON.stringify(['primary', bucket, key])) !== undefined);
  });

  it('serves ranges of a cached object from the cache', async () => {
    const { data, key } = await stored(50 * KiB);
    await readAll((await layer.get(bucket, key)).body);
    await cache.drain();
    remote.reset();
    const got = await layer.get(bucket, key, { range: { start: 10, end: 19 } });
    assert.deepEqual(got.range, { start: 10, end: 19 });
    assert.ok((await readAll(got.body)).equals(data.subarray(10, 20)));
    const tail = await layer.get(bucket, key, { range: { start: 50 * KiB - 5 } });
    assert.ok((await readAll(tail.body)).equals(data.subarray(-5)));
    await assert.rejects(layer.get(bucket, key, { range: { start: 50 * KiB } }), (err: unknown) => isStorageError(err, 'InvalidRange'));
    assert.equal(remote.stats.gets, 0);
  });

  it('passes ranges of large objects through, without downloading them', async () => {
    const { data, key } = await stored(200 * KiB);
    assert.equal((await layer.head(bucket, key)).size, data.length);
    remote.reset();
    const seek = await layer.get(bucket, key, { range: { start: 150 * KiB } });
    assert.ok((await readAll(seek.body)).equals(data.subarray(150 * KiB)));
    const middle = await layer.get(bucket, key, { range: { start: 1000, end: 1099 } });
    assert.ok((await readAll(middle.body)).equals(data.subarray(1000, 1100)));
    assert.deepEqual([remote.stats.gets, remote.stats.ranged, remote.stats.bytes], [2, 2, 50 * KiB + 100]);
    assert.equal(cache.peek(JSON.stringify(['primary', bucket, key])), undefined);
  });

  it('fills a small object on a range to its end; bounded reads of an uncached object pass through', async () => {
    const { data, key } = await stored(20 * KiB);
    remote.reset();
    const probe = await layer.get(bucket, key, { range: { start: 0, end: 4095 } });
    assert.ok((await readAll(probe.body)).equals(data.subarray(0, 4096)));
    assert.deepEqual([remote.stats.ranged, remote.stats.bytes], [1, 4096]);
    assert.equal(cache.peek(JSON.stringify(['primary', bucket, key])), undefined);
    const play = await layer.get(bucket, key, { range: { start: 100, end: data.length - 1 } });
    assert.ok((await readAll(play.body)).equals(data.subarray(100)));
    assert.deepEqual([remote.stats.gets, remote.stats.ranged, remote.stats.bytes], [2, 1, 4096 + data.length]);
    await cache.drain();
    const again = await layer.get(bucket, key, { range: { start: 5, end: 9 } });
    assert.ok((await readAll(again.body)).equals(data.subarray(5, 10)));
    assert.equal(remote.stats.gets, 2);
  });

  it('never serves an overwritten object stale, whoever overwrote it', async () => {
    const key = `mutable/${randomUUID()}.jpg`;
    await putRemote(key, Buffer.from('version one'));
    assert.equal((await readAll((await layer.get(bucket, key)).body)).toString(), 'version one');
    await cache.drain();
    remote.reset();
    assert.equal((await readAll((await layer.get(bucket, key)).body)).toString(), 'version one');
    assert.equal(remote.stats.gets, 0, 'revalidated by ETag, served from the cache');
    await putRemote(key, Buffer.from('version two, from another instance'));
    assert.equal((await readAll((await layer.get(bucket, key)).body)).toString(), 'version two, from another instance');
    await layer.put(bucket, key, Readable.from([Buffer.from('version three')]));
    assert.equal((await readAll((await layer.get(bucket, key)).body)).toString(), 'version three');
    assert.equal((await layer.head(bucket, key)).size, 13);
    await layer.delete(bucket, key);
    await assert.rejects(layer.get(bucket, key), (err: unknown) => isStorageError(err, 'NotFound'));
  });

  it('serves what it cached before a restart without reading the store', async () => {
    const { data, key } = await stored(30 * KiB);
    await readAll((await layer.get(bucket, key)).body);
    await cache.close();
    await open();
    remote.reset();
    const got = await layer.get(bucket, key);
    assert.ok((await readAll(got.body)).equals(data));
    assert.equal(got.info.contentType, 'image/jpeg');
    assert.equal((await layer.head(bucket, key)).size, data.length);
    assert.equal(remote.stats.gets, 0);
  });
});
