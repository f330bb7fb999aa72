/**
 * Provider-agnostic conformance suite of {@link ObjectStore}: every provider
 * (local disk and each cloud) must pass it unchanged. It tests only the
 * contract, never a provider's internals, and keeps all its keys under a
 * unique prefix so it can run against a shared bucket.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ObjectInfo, ObjectStore, PartInfo } from '../../src/storage/object-store.ts';
import { isStorageError, type StorageError, type StorageErrorKind } from '../../src/storage/errors.ts';

/** What {@link describeObjectStoreConformance} needs from a provider's test. */
export interface ConformanceSetup {
  readonly store: ObjectStore;
  /** An existing bucket the suite may write to. */
  readonly bucket: string;
  /** A second existing bucket, for cross-bucket copies. */
  readonly otherBucket: string;
  cleanup(): Promise<void>;
}

/**
 * The usual setup: `store` with two buckets it creates, `<bucket>` and
 * `<bucket>-other`; `cleanup` closes the store, then runs `after` (stopping
 * a peer, removing a folder).
 */
export async function twoBuckets(store: ObjectStore, bucket: string, after?: () => Promise<void>): Promise<ConformanceSetup> {
  const otherBucket = `${bucket}-other`;
  await store.ensureBucket(bucket);
  await store.ensureBucket(otherBucket);
  return {
    store,
    bucket,
    otherBucket,
    async cleanup() {
      await store.close();
      await after?.();
    },
  };
}

const MiB = 1024 * 1024;

function bytes(...chunks: (Buffer | string)[]): Readable {
  return Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256Of(body: AsyncIterable<unknown>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Random bytes made on the fly; `digest()` is valid once the stream has ended. */
function randomStream(total: number, chunkSize = 64 * 1024): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < total; sent += chunkSize) {
      const chunk = randomBytes(Math.min(chunkSize, total - sent));
      hash.update(chunk);
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), digest: () => hash.digest('hex') };
}

/** Deterministic content of multipart part `part`, so the whole can be re-hashed in order. */
async function* partChunks(seed: string, part: number, size: number): AsyncGenerator<Buffer> {
  const block = 64 * 1024;
  for (let offset = 0, i = 0; offset < size; offset += block, i++) {
    const unit = createHash('sha256').update(`${seed}:${part}:${i}`).digest();
    yield Buffer.alloc(Math.min(block, size - offset), unit);
  }
}

/** Yields `chunks`, then fails like a dropped client connection. */
function failingStream(...chunks: Buffer[]): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    yield* chunks;
    await new Promise((resolve) => setTimeout(resolve, 10));
    throw new Error('source stream failed');
  }
  return Readable.from(gen(), { objectMode: false });
}

/** A stream that never ends; calls `onStarted` once some data was consumed. */
function endlessStream(onStarted: () => void): Readable {
  let pushed = 0;
  return new Readable({
    read() {
      setTimeout(() => {
        if (++pushed === 4) onStarted();
        this.push(Buffer.alloc(16 * 1024, 7));
      }, 2);
    },
  });
}

async function rejectsWith(promise: Promise<unknown>, kind?: StorageErrorKind): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err), `expected a StorageError, got ${String(err)}`);
    if (kind !== undefined) assert.equal(err.kind, kind, err.message);
    return true;
  });
}

/** Shared state of one suite run, filled in by its `before` hook. */
class Suite {
  env: ConformanceSetup | undefined;
  /** Unique per run, so runs against a shared bucket never collide. */
  readonly run = `conformance-${randomUUID()}`;
  #counter = 0;

  get store(): ObjectStore {
    if (this.env === undefined) throw new Error('conformance setup did not run');
    return this.env.store;
  }

  get bucket(): string {
    return this.env?.bucket ?? '';
  }

  get otherBucket(): string {
    return this.env?.otherBucket ?? '';
  }

  /** A fresh prefix per test, so tests never see each other's keys. */
  fresh(label: string): string {
    return `${this.run}/${++this.#counter}-${label}/`;
  }

  put(key: string, content: string | Buffer): Promise<ObjectInfo> {
    return this.store.put(this.bucket, key, bytes(content));
  }

  async text(key: string): Promise<string> {
    return (await readAll((await this.store.get(this.bucket, key)).body)).toString('utf8');
  }
}

/**
 * Registers the conformance tests of an {@link ObjectStore}. `setup` runs once
 * before the tests and must return a store and two existing buckets;
 * `cleanup` runs once after them.
 */
export function describeObjectStoreConformance(name: string, setup: () => Promise<ConformanceSetup>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    const s = new Suite();
    before(async () => {
      s.env = await setup();
    });
    after(async () => {
      await s.env?.cleanup();
    });
    describeBasics(s);
    describePutGet(s);
    describeRanges(s);
    describeMissing(s);
    describeList(s);
    describeCopyDelete(s);
    describeMultipart(s);
    describeFailedWrites(s);
    describeInvalidKeys(s);
  });
}

function describeBasics(s: Suite): void {
  it('has a provider name and capabilities', () => {
    assert.equal(typeof s.store.provider, 'string');
    assert.ok(s.store.provider.length > 0);
    for (const flag of ['multipart', 'serverSideCopy', 'conditionalPut', 'presignedUrls'] as const) {
      assert.equal(typeof s.store.capabilities[flag], 'boolean');
    }
    assert.ok(s.store.capabilities.maxObjectSize > 0);
  });
}

function describePutGet(s: Suite): void {
  describe('put, get, head', () => {
    it('round-trips an object with consistent metadata', async () => {
      const key = `${s.fresh('roundtrip')}hello.txt`;
      const info = await s.store.put(s.bucket, key, bytes('hello ', 'world'));
      assert.equal(info.bucket, s.bucket);
      assert.equal(info.key, key);
      assert.equal(info.size, 11);
      assert.match(info.etag, /^(W\/)?".*"$/);
      assert.ok(info.lastModified instanceof Date && !Number.isNaN(info.lastModified.getTime()));
      const got = await s.store.get(s.bucket, key);
      assert.equal((await readAll(got.body)).toString(), 'hello world');
      assert.equal(got.info.size, 11);
      assert.equal(got.info.etag, info.etag);
      assert.equal(got.range, undefined);
      const head = await s.store.head(s.bucket, key);
      assert.equal(head.size, 11);
      assert.equal(head.etag, info.etag);
      assert.equal(await s.store.exists(s.bucket, key), true);
    });

    it('stores a 0-byte object', async () => {
      const key = `${s.fresh('empty')}empty.bin`;
      assert.equal((await s.store.put(s.bucket, key, bytes())).size, 0);
      assert.equal((await s.store.head(s.bucket, key)).size, 0);
      assert.equal((await readAll((await s.store.get(s.bucket, key)).body)).length, 0);
    });

    it('keeps binary bytes unchanged', async () => {
      const key = `${s.fresh('binary')}all-bytes.bin`;
      const data = Buffer.from(Array.from({ length: 256 * 40 }, (_, i) => i % 256));
      await s.store.put(s.bucket, key, bytes(data), { size: data.length });
      assert.deepEqual(await readAll((await s.store.get(s.bucket, key)).body), data);
    });

    it('stores bytes given in memory, and refuses them when the declared size differs', async () => {
      // Characters a request path must encode, sent the way small bodies go (a single request where the store can).
      const key = `${s.fresh('in-memory')}by tes ü!'()*+=&,;~@$%/x.bin`;
      const data = new Uint8Array(randomBytes(70_000));
      const info = await s.store.put(s.bucket, key, data, { size: data.length, contentType: 'application/octet-stream' });
      assert.equal(info.size, data.length);
      assert.deepEqual(await readAll((await s.store.get(s.bucket, key)).body), Buffer.from(data));
      await assert.rejects(s.store.put(s.bucket, key, Buffer.from('short'), { size: 6 }), (err: StorageError) => err.kind === 'Corrupt');
      assert.deepEqual(await readAll((await s.store.get(s.bucket, key)).body), Buffer.from(data));
    });

    it('streams 20 MB of unknown length', async () => {
      const key = `${s.fresh('large')}large.bin`;
      const { stream, digest } = randomStream(20 * MiB + 123);
      const info = await s.store.put(s.bucket, key, stream);
      assert.equal(info.size, 20 * MiB + 123);
      assert.equal((await s.store.head(s.bucket, key)).size, 20 * MiB + 123);
      assert.equal(await sha256Of((await s.store.get(s.bucket, key)).body), digest());
    });

    it('stores a local file with putFile', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'stowage-conformance-'));
      try {
        const file = join(dir, 'upload.bin');
        await writeFile(file, 'from a file');
        const key = `${s.fresh('putfile')}file.bin`;
        assert.equal((await s.store.putFile(s.bucket, key, file)).size, 11);
        assert.equal(await s.text(key), 'from a file');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('overwrites an object, changing its etag', async () => {
      const key = `${s.fresh('overwrite')}o.txt`;
      const first = await s.put(key, 'first version');
      const second = await s.put(key, 'second');
      assert.notEqual(second.etag, first.etag);
      assert.equal(await s.text(key), 'second');
      assert.equal((await s.store.head(s.bucket, key)).size, 6);
    });

    it('ifNoneMatch creates once, then fails with PreconditionFailed', async () => {
      const key = `${s.fresh('if-none-match')}once.txt`;
      await s.store.put(s.bucket, key, bytes('original'), { ifNoneMatch: true });
      await rejectsWith(s.store.put(s.bucket, key, bytes('intruder'), { ifNoneMatch: true }), 'PreconditionFailed');
      assert.equal(await s.text(key), 'original');
    });

    it('reports the content type given on put', async () => {
      const key = `${s.fresh('content-type')}picture.png`;
      await s.store.put(s.bucket, key, bytes('not really a png'), { contentType: 'image/png' });
      assert.equal((await s.store.head(s.bucket, key)).contentType, 'image/png');
    });

    it('handles unicode, spaces and URL-special characters in keys', async () => {
      const prefix = s.fresh('unicode');
      const keys = [`${prefix}dir with space/naïve café 猫 🐱.txt`, `${prefix}p%2Fq+r=s&t?u#v;w.txt`];
      for (const key of keys) await s.put(key, key);
      for (const key of keys) assert.equal(await s.text(key), key);
      const listed = await s.store.list(s.bucket, { prefix });
      assert.deepEqual(listed.objects.map((o) => o.key), [...keys].sort(compareUtf8));
    });
  });
}

function describeRanges(s: Suite): void {
  describe('ranges', () => {
    let key: string;
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const ranged = async (start: number, end?: number) => {
      const res = await s.store.get(s.bucket, key, { range: end === undefined ? { start } : { start, end } });
      return { data: await readAll(res.body), range: res.range, size: res.info.size };
    };
    before(async () => {
      key = `${s.fresh('ranges')}hundred.bin`;
      await s.put(key, data);
    });

    it('serves the first, a middle and the last byte range', async () => {
      assert.deepEqual(await ranged(0, 0), { data: data.subarray(0, 1), range: { start: 0, end: 0 }, size: 100 });
      assert.deepEqual(await ranged(10, 19), { data: data.subarray(10, 20), range: { start: 10, end: 19 }, size: 100 });
      assert.deepEqual(await ranged(99, 99), { data: data.subarray(99), range: { start: 99, end: 99 }, size: 100 });
    });

    it('serves open-ended ranges and clamps the end to the size', async () => {
      assert.deepEqual(await ranged(90), { data: data.subarray(90), range: { start: 90, end: 99 }, size: 100 });
      assert.deepEqual(await ranged(95, 1000), { data: data.subarray(95), range: { start: 95, end: 99 }, size: 100 });
    });

    it('fails with InvalidRange when the range starts past the end', async () => {
      await rejectsWith(s.store.get(s.bucket, key, { range: { start: 100 } }), 'InvalidRange');
      await rejectsWith(s.store.get(s.bucket, key, { range: { start: 500, end: 600 } }), 'InvalidRange');
    });
  });
}

function describeMissing(s: Suite): void {
  describe('missing objects', () => {
    it('get, head and copy fail with NotFound; exists answers false', async () => {
      const key = `${s.fresh('missing')}nope.txt`;
      await rejectsWith(s.store.get(s.bucket, key), 'NotFound');
      await rejectsWith(s.store.head(s.bucket, key), 'NotFound');
      await rejectsWith(s.store.copy(s.bucket, key, s.bucket, `${key}.copy`), 'NotFound');
      assert.equal(await s.store.exists(s.bucket, key), false);
    });

    it('localFile, where a store has it, names a file with the bytes and reads its head, and is NotFound when missing', async () => {
      const { localFile } = s.store;
      if (localFile === undefined) return; // an optional capability: cloud stores have no such file
      const key = `${s.fresh('local-file')}a.bin`;
      const bytes = randomBytes(3000);
      await s.store.put(s.bucket, key, Readable.from([bytes]));
      const plain = await localFile.call(s.store, s.bucket, key);
      assert.deepEqual(await readFile(plain.path), bytes);
      assert.equal(plain.head.length, 0, 'no head unless asked for');
      assert.deepEqual((await localFile.call(s.store, s.bucket, key, { headBytes: 100 })).head, bytes.subarray(0, 100));
      assert.deepEqual((await localFile.call(s.store, s.bucket, key, { headBytes: 5000 })).head, bytes, 'a short file gives what it has');
      await rejectsWith(localFile.call(s.store, s.bucket, `${key}.nope`), 'NotFound');
      await rejectsWith(localFile.call(s.store, s.bucket, `${key}.nope`, { headBytes: 10 }), 'NotFound');
    });

    it('a missing bucket is NotFound', async () => {
      const missing = `stowage-missing-${randomUUID().slice(0, 8)}`;
      await rejectsWith(s.store.get(missing, 'x.txt'), 'NotFound');
      await rejectsWith(s.store.list(missing), 'NotFound');
      assert.equal(await s.store.exists(missing, 'x.txt'), false);
    });

    it('writing into a missing bucket is ConfigInvalid (a setup problem), and creates nothing', async () => {
      const missing = `stowage-missing-${randomUUID().slice(0, 8)}`;
      await rejectsWith(s.store.put(missing, 'x.txt', bytes('x'), { size: 1 }), 'ConfigInvalid');
      await rejectsWith(s.store.put(missing, 'y.txt', bytes('y')), 'ConfigInvalid');
      assert.equal(await s.store.exists(missing, 'x.txt'), false);
    });
  });
}

function describeList(s: Suite): void {
  describe('list', () => {
    let p: string;
    // 'x-y' < 'x/y' < 'x0' and 'Ａ' (U+FF21) < '😀' hold in UTF-8 byte order, not all in UTF-16 order.
    const names = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'c.txt', 'x-y', 'x/y', 'x0', 'Ａ', '😀'];
    const keysOf = (page: { objects: readonly { key: string }[] }) => page.objects.map((o) => o.key.slice(p.length));
    before(async () => {
      p = s.fresh('list');
      for (const name of names) await s.put(p + name, `content of ${name}`);
    });

    it('lists every key under a prefix in byte order, with metadata', async () => {
      const page = await s.store.list(s.bucket, { prefix: p });
      assert.deepEqual(keysOf(page), names);
      assert.deepEqual(page.prefixes, []);
      assert.equal(page.nextToken, undefined);
      for (const info of page.objects) {
        assert.equal(info.bucket, s.bucket);
        assert.equal(info.size, Buffer.byteLength(`content of ${info.key.slice(p.length)}`));
        assert.equal(info.etag, (await s.store.head(s.bucket, info.key)).etag);
      }
    });

    it('matches prefixes that do not end at a slash', async () => {
      assert.deepEqual(keysOf(await s.store.list(s.bucket, { prefix: `${p}b` })), ['b/1.txt', 'b/2.txt', 'b/c/3.txt']);
      assert.deepEqual(keysOf(await s.store.list(s.bucket, { prefix: `${p}x` })), ['x-y', 'x/y', 'x0']);
      assert.deepEqual(keysOf(await s.store.list(s.bucket, { prefix: `${p}b/1` })), ['b/1.txt']);
    });

    it('groups keys into common prefixes with a delimiter', async () => {
      const top = await s.store.list(s.bucket, { prefix: p, delimiter: '/' });
      assert.deepEqual(keysOf(top), ['a.txt', 'c.txt', 'x-y', 'x0', 'Ａ', '😀']);
      assert.deepEqual(top.prefixes, [`${p}b/`, `${p}x/`]);
      const inner = await s.store.list(s.bucket, { prefix: `${p}b/`, delimiter: '/' });
      assert.deepEqual(keysOf(inner), ['b/1.txt', 'b/2.txt']);
      assert.deepEqual(inner.prefixes, [`${p}b/c/`]);
      const dash = await s.store.list(s.bucket, { prefix: p, delimiter: '-' });
      assert.deepEqual(dash.prefixes, [`${p}x-`]);
    });

    it('paginates with maxKeys and continuation tokens, every key once and in order', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await s.store.list(s.bucket, { prefix: p, maxKeys: 3, continuationToken: token });
        assert.ok(page.objects.length <= 3);
        seen.push(...keysOf(page));
        token = page.nextToken;
        assert.ok(++pages <= names.length, 'pagination does not terminate');
      } while (token !== undefined);
      assert.deepEqual(seen, names);
    });

    it('paginates common prefixes too', async () => {
      const objects: string[] = [];
      const prefixes: string[] = [];
      let token: string | undefined;
      do {
        const page = await s.store.list(s.bucket, { prefix: p, delimiter: '/', maxKeys: 1, continuationToken: token });
        assert.ok(page.objects.length + page.prefixes.length <= 1);
        objects.push(...keysOf(page));
        prefixes.push(...page.prefixes);
        token = page.nextToken;
      } while (token !== undefined);
      assert.deepEqual(objects, ['a.txt', 'c.txt', 'x-y', 'x0', 'Ａ', '😀']);
      assert.deepEqual(prefixes, [`${p}b/`, `${p}x/`]);
    });

    it('starts after a given key', async () => {
      const page = await s.store.list(s.bucket, { prefix: p, startAfter: `${p}b/2.txt` });
      assert.deepEqual(keysOf(page), names.slice(names.indexOf('b/c/3.txt')));
    });

    it('returns an empty page when nothing matches', async () => {
      for (const options of [{ prefix: `${p}nothing/` }, { prefix: `${p}nothing/`, delimiter: '/' }, { prefix: `${p}zzz` }]) {
        const page = await s.store.list(s.bucket, options);
        assert.deepEqual(page.objects, []);
        assert.deepEqual(page.prefixes, []);
        assert.equal(page.nextToken, undefined);
      }
    });
  });
}

function describeCopyDelete(s: Suite): void {
  describe('copy and delete', () => {
    it('copies within a bucket, leaving the source', async () => {
      const p = s.fresh('copy');
      await s.put(`${p}src.txt`, 'copied bytes');
      const info = await s.store.copy(s.bucket, `${p}src.txt`, s.bucket, `${p}nested/dst.txt`);
      assert.equal(info.key, `${p}nested/dst.txt`);
      assert.equal(info.size, 12);
      assert.equal(await s.text(`${p}nested/dst.txt`), 'copied bytes');
      assert.equal(await s.text(`${p}src.txt`), 'copied bytes');
    });

    it('copies across buckets and over an existing object', async () => {
      const p = s.fresh('copy-across');
      await s.put(`${p}src.txt`, 'cross-bucket');
      await s.store.put(s.otherBucket, `${p}dst.txt`, bytes('old content to replace'));
      const info = await s.store.copy(s.bucket, `${p}src.txt`, s.otherBucket, `${p}dst.txt`);
      assert.equal(info.bucket, s.otherBucket);
      assert.equal((await readAll((await s.store.get(s.otherBucket, `${p}dst.txt`)).body)).toString(), 'cross-bucket');
      await s.store.delete(s.otherBucket, `${p}dst.txt`);
    });

    it('deletes idempotently and keeps sibling keys', async () => {
      const p = s.fresh('delete');
      await s.put(`${p}d/1.txt`, 'one');
      await s.put(`${p}d/2.txt`, 'two');
      await s.store.delete(s.bucket, `${p}d/1.txt`);
      assert.equal(await s.store.exists(s.bucket, `${p}d/1.txt`), false);
      await rejectsWith(s.store.get(s.bucket, `${p}d/1.txt`), 'NotFound');
      await s.store.delete(s.bucket, `${p}d/1.txt`);
      await s.store.delete(s.bucket, `${p}never/existed.txt`);
      assert.deepEqual((await s.store.list(s.bucket, { prefix: p })).objects.map((o) => o.key), [`${p}d/2.txt`]);
    });
  });
}

function describeMultipart(s: Suite): void {
  describe('multipart', () => {
    it('assembles parts uploaded out of order', async () => {
      const key = `${s.fresh('multipart')}assembled.bin`;
      const sizes = [5 * MiB, 5 * MiB, MiB + 123];
      const upload = await s.store.createMultipart(s.bucket, key);
      assert.equal(upload.key, key);
      const parts: PartInfo[] = [];
      for (const n of [3, 1, 2]) {
        const size = sizes[n - 1] ?? 0;
        const part = await upload.uploadPart(n, Readable.from(partChunks(s.run, n, size), { objectMode: false }), size);
        assert.deepEqual({ partNumber: part.partNumber, size: part.size }, { partNumber: n, size });
        parts.push(part);
      }
      const info = await upload.complete([...parts].sort((a, b) => a.partNumber - b.partNumber));
      const total = sizes.reduce((a, b) => a + b, 0);
      assert.equal(info.size, total);
      assert.equal((await s.store.head(s.bucket, key)).size, total);
      const expected = await sha256Of((async function* () {
        for (const [i, size] of sizes.entries()) yield* partChunks(s.run, i + 1, size);
      })());
      assert.equal(await sha256Of((await s.store.get(s.bucket, key)).body), expected);
    });

    it('abort leaves nothing behind and is idempotent', async () => {
      const p = s.fresh('multipart-abort');
      const upload = await s.store.createMultipart(s.bucket, `${p}aborted.bin`);
      await upload.uploadPart(1, bytes('some part data'), 14);
      await upload.abort();
      await upload.abort();
      assert.equal(await s.store.exists(s.bucket, `${p}aborted.bin`), false);
      assert.deepEqual((await s.store.list(s.bucket, { prefix: p })).objects, []);
    });

    it('refuses to complete with a part that does not match', async () => {
      const key = `${s.fresh('multipart-bad')}bad.bin`;
      const upload = await s.store.createMultipart(s.bucket, key);
      const part = await upload.uploadPart(1, bytes('only part'), 9);
      await rejectsWith(upload.complete([{ ...part, etag: '"0123456789abcdef0123456789abcdef"' }]), 'PreconditionFailed');
      await upload.abort();
      assert.equal(await s.store.exists(s.bucket, key), false);
    });
  });
}

function describeFailedWrites(s: Suite): void {
  describe('failed writes', () => {
    it('a source stream failing midway stores nothing', async () => {
      const key = `${s.fresh('failed-new')}partial.bin`;
      await rejectsWith(s.store.put(s.bucket, key, failingStream(randomBytes(100_000), randomBytes(100_000))));
      assert.equal(await s.store.exists(s.bucket, key), false);
    });

    it('a source stream failing midway keeps the previous object', async () => {
      const key = `${s.fresh('failed-overwrite')}kept.txt`;
      await s.put(key, 'previous content');
      await rejectsWith(s.store.put(s.bucket, key, failingStream(randomBytes(100_000))));
      assert.equal(await s.text(key), 'previous content');
    });

    it('an aborted put stores nothing', async () => {
      const key = `${s.fresh('aborted')}aborted.bin`;
      const controller = new AbortController();
      const body = endlessStream(() => controller.abort());
      await rejectsWith(s.store.put(s.bucket, key, body, { signal: controller.signal }));
      assert.equal(await s.store.exists(s.bucket, key), false);
    });
  });
}

function describeInvalidKeys(s: Suite): void {
  describe('invalid keys', () => {
    const invalid = ['../x', 'a/../../x', '/abs', 'a//b', 'a\u0000b', '', 'a/', 'a/./b', '..', 'a\\b', 'x'.repeat(1025)];
    for (const key of invalid) {
      it(`rejects ${JSON.stringify(key.length > 40 ? `${key.slice(0, 10)}…(${key.length})` : key)} with InvalidKey`, async () => {
        await rejectsWith(s.store.put(s.bucket, key, bytes('x')), 'InvalidKey');
        await rejectsWith(s.store.get(s.bucket, key), 'InvalidKey');
        await rejectsWith(s.store.head(s.bucket, key), 'InvalidKey');
        await rejectsWith(s.store.delete(s.bucket, key), 'InvalidKey');
      });
    }
  });
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
