/** Shared pieces of the migration tests: buckets full of objects, and comparing two stores' contents. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from '../../src/migrate/backoff.ts';
import { listAll } from '../../src/migrate/listing.ts';

/** Short waits so retried steps do not slow the tests down. */
export const FAST_BACKOFF: BackoffOptions = { attempts: 12, minDelayMs: 50, maxDelayMs: 1000 };
export { DEFAULT_BACKOFF };

/** Puts `bytes` at `bucket/key`. */
export async function putBytes(store: ObjectStore, bucket: string, key: string, bytes: Buffer): Promise<void> {
  await store.put(bucket, key, Readable.from([bytes]), { size: bytes.length });
}

/** Objects of various shapes: empty, tiny, nested, non-ASCII, one in parts when `bigBytes` > 0. */
export function sampleObjects(count: number, bigBytes = 0): Map<string, Buffer> {
  const objects = new Map<string, Buffer>();
  objects.set('empty.bin', Buffer.alloc(0));
  objects.set('ünïcödé/ファイル 1.txt', Buffer.from('non-ascii key\n'));
  objects.set('a/b/c/deep.txt', Buffer.from('deep\n'));
  for (let i = 0; i < count; i++) {
    const h = createHash('sha256').update(String(i)).digest('hex');
    objects.set(`images/original/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}.jpg`, randomBytes(100 + ((i * 7919) % 20_000)));
  }
  if (bigBytes > 0) objects.set('videos/original/big.mp4', randomBytes(bigBytes));
  return objects;
}

/** Stores every object of `objects` in `bucket`. */
export async function fill(store: ObjectStore, bucket: string, objects: Map<string, Buffer>): Promise<void> {
  await store.ensureBucket(bucket);
  for (const [key, bytes] of objects) await putBytes(store, bucket, key, bytes);
}

/** SHA-256 of every object of a bucket, by key (bytes read back through the store). */
export async function contents(store: ObjectStore, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of listAll(store, bucket, '', DEFAULT_BACKOFF)) {
    const got = await store.get(bucket, o.key);
    const h = createHash('sha256');
    for await (const chunk of got.body as AsyncIterable<Buffer>) h.update(chunk);
    out.set(o.key, h.digest('hex'));
  }
  return out;
}

/** Asserts that the target bucket holds exactly the source's keys with the same bytes. */
export async function assertSameContents(src: ObjectStore, srcBucket: string, dst: ObjectStore, dstBucket: string, skipPrefix?: string): Promise<number> {
  const a = await contents(src, srcBucket);
  const b = await contents(dst, dstBucket);
  if (skipPrefix !== undefined) for (const k of [...b.keys()]) if (k.startsWith(skipPrefix)) b.delete(k);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), `keys of ${dstBucket}`);
  for (const [k, h] of a) assert.equal(b.get(k), h, `bytes of ${dstBucket}/${k}`);
  return a.size;
}

/** SHA-256 of a buffer, hex. */
export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
