/** The pure pieces of the migrations: key order, prefixes, pairing, ETags, back-off, target paths. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { backoffDelay, isPermanent, MigrationAborted, withBackoff } from '../../src/migrate/backoff.ts';
import { multipartEtag, partSizeFor, s3Etag } from '../../src/migrate/checksum.ts';
import { compareKeys, listedPrefixes, pairWithTarget } from '../../src/migrate/listing.ts';
import { itemPlace, resolveProjectTarget } from '../../src/migrate/project-target.ts';
import { LinkRegistry } from '../../src/links/registry.ts';
import { StorageError } from '../../src/storage/errors.ts';
import type { ObjectInfo, ObjectStore } from '../../src/storage/object-store.ts';

const info = (key: string, size = 1): ObjectInfo => ({ bucket: 'b', key, size, etag: '"x"', lastModified: new Date(0) });

async function* of(...keys: string[]): AsyncGenerator<ObjectInfo> {
  for (const k of keys) yield info(k);
}

describe('migration building blocks', () => {
  it('orders keys by UTF-8 bytes, as S3 lists them', () => {
    const keys = ['b', 'a', '\u{1F600}', '\uFF21', 'ab'];
    assert.deepEqual([...keys].sort(compareKeys), ['a', 'ab', 'b', '\uFF21', '\u{1F600}']);
  });

  it('lists each include prefix once', () => {
    assert.deepEqual(listedPrefixes([]), ['']);
    assert.deepEqual(listedPrefixes(['images/a/', 'images/', 'videos/', 'images/']), ['images/', 'videos/']);
  });

  it('pairs two ordered listings, and falls back to HEADs when the target is out of order', async () => {
    const lookups: string[] = [];
    const lookup = async (k: string) => { lookups.push(k); return k === 'd' ? info('d') : undefined; };
    const pairs = [];
    for await (const p of pairWithTarget(of('a', 'b', 'c', 'd'), of('b', 'bb', 'd')[Symbol.asyncIterator](), lookup)) pairs.push([p.src.key, p.dst?.key]);
    assert.deepEqual(pairs, [['a', undefined], ['b', 'b'], ['c', undefined], ['d', 'd']]);
    assert.deepEqual(lookups, []);
    const disordered = [];
    for await (const p of pairWithTarget(of('a', 'c', 'd'), of('b', 'a')[Symbol.asyncIterator](), lookup)) disordered.push([p.src.key, p.dst?.key]);
    assert.deepEqual(disordered, [['a', undefined], ['c', undefined], ['d', 'd']]);
    assert.deepEqual(lookups, ['c', 'd']);
  });

  it('reads S3 ETags and computes multipart ones', () => {
    const s3 = { provider: 'minio' } as ObjectStore;
    assert.deepEqual(s3Etag(s3, '"0123456789ABCDEF0123456789abcdef"'), { md5: '0123456789abcdef0123456789abcdef' });
    assert.deepEqual(s3Etag(s3, '"0123456789abcdef0123456789abcdef-7"'), { md5: '0123456789abcdef0123456789abcdef', parts: 7 });
    assert.equal(s3Etag({ provider: 'azure' } as ObjectStore, '"0123456789abcdef0123456789abcdef"'), undefined);
    const d = [Buffer.alloc(16, 1), Buffer.alloc(16, 2)];
    assert.deepEqual(multipartEtag(d), { md5: createHash('md5').update(Buffer.concat(d)).digest('hex'), parts: 2 });
    assert.equal(partSizeFor(100e6), 16 * 2 ** 20);
    assert.ok(partSizeFor(5 * 2 ** 40) * 10_000 >= 5 * 2 ** 40);
  });

  it('retries transient failures with doubling waits, never permanent ones', async () => {
    const o = { attempts: 4, minDelayMs: 1, maxDelayMs: 3 };
    assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(a, { minDelayMs: 2000, maxDelayMs: 60_000, attempts: 10 }, () => 0.5)), [2000, 4000, 8000, 16000]);
    let calls = 0;
    const flaky = await withBackoff(async () => {
      calls += 1;
      if (calls < 3) throw new StorageError('Unavailable', 'reset');
      return 'ok';
    }, o);
    assert.deepEqual([flaky, calls], ['ok', 3]);
    calls = 0;
    await assert.rejects(withBackoff(async () => { calls += 1; throw new StorageError('PermissionDenied', 'no'); }, o), /no/);
    assert.equal(calls, 1);
    assert.ok(isPermanent(new MigrationAborted('x')) && !isPermanent(new Error('socket hang up')));
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(withBackoff(async () => 'never', o, abort.signal), MigrationAborted);
  });

  it('places items as the seed does, or by nested dataset names', () => {
    const links = new LinkRegistry();
    links.set({ name: 'c', provider: 'minio', store: {} as ObjectStore, buckets: ['bk'] });
    const t = resolveProjectTarget('s3://bk/some/dir/', links);
    assert.deepEqual([t.to, t.dir, t.connection], ['s3://bk/some/dir', 'some/dir', 'c']);
    assert.equal(itemPlace(t, 'images', 7, { datasetId: 9, name: 'a b.png' }, false, []).link, 's3://bk/some/dir/images/7/9/a b.png');
    assert.equal(itemPlace(t, 'videos', 7, { datasetId: 9, name: 'x/y.mp4' }, true, ['top', 'a/b']).key, 'some/dir/videos/7/top/a%2Fb/x%2Fy.mp4');
    assert.equal(resolveProjectTarget('s3://bk', links).dir, '');
    assert.throws(() => resolveProjectTarget('s3://bk/a//b', links), /empty folder name/);
    assert.throws(() => resolveProjectTarget('s3://other/x', links), /no remote connection allows/);
  });
});
