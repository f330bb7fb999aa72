import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { DiskCache, type DiskCacheOptions, type FillMeta, type FillResult } from '../../src/cache/disk-cache.ts';
import { isStorageError } from '../../src/storage/errors.ts';

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-disk-cache-'));
  roots.push(dir);
  return dir;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function fillOf(data: string | Buffer, extra: Partial<FillMeta> = {}): () => Promise<FillResult> {
  return async () => ({ body: Readable.from([Buffer.from(data)]), contentType: 'text/plain', ...extra });
}

/** A fill whose body the test feeds by hand, counting how often it was started. */
function manualFill(): { fill: () => Promise<FillResult>; body: PassThrough; calls: () => number } {
  const body = new PassThrough();
  let calls = 0;
  return { body, calls: () => calls, fill: async () => { calls += 1; return { body, contentType: 'video/mp4', etag: '"v1"', size: 6 }; } };
}

describe('DiskCache', () => {
  let dir: string;
  let now: number;
  const opts = (o: Partial<DiskCacheOptions> = {}): DiskCacheOptions =>
    ({ dir, maxBytes: 1000, maxAgeMs: 60_000, name: 'storage', clock: () => now, ...o });
  beforeEach(async () => {
    dir = await freshDir();
    now = 1_700_000_000_000;
  });

  it('fills a miss once, then serves hits, and counts both', async () => {
    const cache = await DiskCache.open(opts());
    let fills = 0;
    const fill = async () => { fills += 1; return fillOf('hello cache')(); };
    const first = await cache.getOrFill('k', fill);
    assert.equal(first.hit, false);
    assert.equal((await readAll(first.entry.open())).toString(), 'hello cache');
    const second = await cache.getOrFill('k', fill);
    assert.equal(second.hit, true);
    assert.equal((await readAll(second.entry.open({ start: 6, end: 10 }))).toString(), 'cache');
    assert.equal(fills, 1);
    assert.equal(second.entry.size, 11);
    assert.match(second.entry.etag, /^"[0-9a-f]{64}"$/);
    assert.equal(await cache.get('other'), undefined);
    assert.deepEqual(cache.stats(), {
      name: 'storage', hits: 1, misses: 2, bytesServed: 5, bytesFetched: 11, evictions: 0, sizeBytes: 11, entries: 1, maxBytes: 1000,
    });
    await cache.close();
  });

  it('keeps the ETag, type and modification time a fill gives', async () => {
    const cache = await DiskCache.open(opts());
    const lastModified = new Date('2024-01-02T03:04:05Z');
    await cache.getOrFill('k', fillOf('x', { etag: '"abc"', contentType: 'image/png', lastModified }));
    const e = await cache.get('k');
    assert.deepEqual([e?.etag, e?.contentType, e?.lastModified.toISOString()], ['"abc"', 'image/png', lastModified.toISOString()]);
    e?.release();
    await cache.close();
  });

  it('evicts the least recently used entries to stay under its size', async () => {
    const cache = await DiskCache.open(opts({ maxBytes: 100 }));
    for (const k of ['a', 'b']) await cache.getOrFill(k, fillOf('x'.repeat(40)));
    (await cache.get('a'))?.release(); // a is now more recent than b
    await cache.getOrFill('c', fillOf('y'.repeat(40)));
    assert.equal(cache.peek('b'), undefined);
    assert.ok(cache.peek('a') !== undefined && cache.peek('c') !== undefined);
    const s = cache.stats();
    assert.deepEqual([s.entries, s.sizeBytes, s.evictions], [2, 80, 1]);
    await cache.drain(); // evicted files are deleted in the background
    assert.equal((await listFiles(join(dir, 'data'))).length, 2);
    await cache.close();
  });

  it('never serves an expired entry and sweeps it', async () => {
    const cache = await DiskCache.open(opts({ maxAgeMs: 1000 }));
    await cache.getOrFill('k', fillOf('old'));
    now += 999;
    assert.ok(cache.peek('k') !== undefined);
    now += 1;
    assert.equal(await cache.get('k'), undefined);
    const again = await cache.getOrFill('k', fillOf('new'));
    assert.equal(again.hit, false);
    assert.equal((await readAll(again.entry.open())).toString(), 'new');
    now += 5000;
    const s = cache.stats();
    assert.deepEqual([s.entries, s.sizeBytes, s.evictions], [0, 0, 2]);
    await cache.close();
  });

  it('serves what it cached before a restart, without filling again', async () => {
    const first = await DiskCache.open(opts());
    await first.getOrFill('persisted', fillOf('survives restarts', { etag: '"e1"' }));
    await first.close();
    const second = await DiskCache.open(opts());
    const got = await second.getOrFill('persisted', () => assert.fail('must not fill again'));
    assert.equal(got.hit, true);
    assert.equal(got.entry.etag, '"e1"');
    assert.equal((await readAll(got.entry.open())).toString(), 'survives restarts');
    const s = second.stats();
    assert.deepEqual([s.hits, s.misses, s.bytesFetched, s.entries], [1, 1, 17, 1]);
    await second.close();
  });

  it('repairs an index and files that disagree', async () => {
    const first = await DiskCache.open(opts());
    await first.getOrFill('kept', fillOf('kept'));
    await first.getOrFill('lost', fillOf('lost'));
    await first.close();
    const files = await listFiles(join(dir, 'data'));
    const lostFile = files.find((f) => f.includes(hashName('lost')));
    assert.ok(lostFile !== undefined);
    await rm(lostFile);
    await mkdir(join(dir, 'data', 'zz'), { recursive: true });
    await writeFile(join(dir, 'data', 'zz', 'zz-orphan'), 'nobody knows me');
    await writeFile(join(dir, 'tmp', 'half-written'), 'partial');
    const second = await DiskCache.open(opts());
    assert.equal(second.peek('lost'), undefined);
    assert.ok(second.peek('kept') !== undefined);
    assert.equal((await listFiles(join(dir, 'data'))).length, 1);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    // A file removed behind a running cache's back (say, by `stowage cache clear`) is a miss, not an error.
    await second.clear();
    await second.getOrFill('again', fillOf('again'));
    await rm(join(dir, 'data'), { recursive: true });
    await mkdir(join(dir, 'data'));
    assert.equal(await second.get('again'), undefined);
    assert.equal(second.stats().entries, 0);
    await second.close();
  });

  it('runs one fill for 100 concurrent callers of a key', async () => {
    const cache = await DiskCache.open(opts());
    const m = manualFill();
    const waiting = Array.from({ length: 100 }, () => cache.getOrFill('video', m.fill));
    m.body.end(Buffer.from('frames'));
    const results = await Promise.all(waiting);
    assert.equal(m.calls(), 1);
    for (const r of results) assert.equal((await readAll(r.entry.open())).toString(), 'frames');
    assert.equal(cache.stats().bytesFetched, 6);
    await cache.close();
  });

  it('streams a growing fill to every caller, and one leaving cancels nothing', async () => {
    const cache = await DiskCache.open(opts());
    const m = manualFill();
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => cache.streamOrFill('video', m.fill)));
    assert.ok(a !== undefined && b !== undefined && c !== undefined);
    m.body.write(Buffer.from('fra'));
    a.body.destroy(); // a client disconnects mid-transfer
    const rest = Promise.all([readAll(b.body), readAll(c.body)]);
    m.body.end(Buffer.from('mes'));
    assert.deepEqual((await rest).map(String), ['frames', 'frames']);
    assert.equal(m.calls(), 1);
    await cache.drain();
    const ranged = await cache.streamOrFill('video', m.fill, { range: { start: 2 } });
    assert.equal(ranged.hit, true);
    assert.deepEqual(ranged.range, { start: 2, end: 5 });
    assert.equal((await readAll(ranged.body)).toString(), 'ames');
    await cache.close();
  });

  it('gives a fill error to every caller and caches nothing', async () => {
    const cache = await DiskCache.open(opts());
    const m = manualFill();
    const waiting = Array.from({ length: 5 }, () => cache.getOrFill('broken', m.fill));
    await until(() => m.calls() === 1);
    m.body.write(Buffer.from('par'));
    m.body.destroy(new Error('origin reset'));
    const settled = await Promise.allSettled(waiting);
    for (const s of settled) assert.equal(s.status, 'rejected');
    assert.equal(m.calls(), 1);
    assert.equal(cache.peek('broken'), undefined);
    assert.deepEqual(await listFiles(join(dir, 'data')), []);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    // A short body (fewer bytes than announced) fails the same way.
    await assert.rejects(cache.getOrFill('short', fillOf('abc', { size: 10 })), (err: unknown) => isStorageError(err, 'Corrupt'));
    await cache.close();
  });

  it('keeps reading an entry that is evicted or cleared meanwhile', async () => {
    const cache = await DiskCache.open(opts());
    await cache.getOrFill('k', fillOf('z'.repeat(300_000).slice(0, 900)));
    const entry = await cache.get('k');
    assert.ok(entry !== undefined);
    await cache.clear();
    assert.equal((await readAll(entry.open())).length, 900);
    await cache.close();
  });

  it('serves an object larger than the cache to its callers without keeping it', async () => {
    const cache = await DiskCache.open(opts({ maxBytes: 10 }));
    const got = await cache.getOrFill('big', fillOf('x'.repeat(50)));
    assert.equal((await readAll(got.entry.open())).length, 50);
    assert.deepEqual([cache.stats().entries, cache.stats().sizeBytes], [0, 0]);
    await cache.drain();
    assert.deepEqual(await listFiles(join(dir, 'data')), []);
    await cache.close();
  });

  it('does not keep a fill whose key was deleted while it ran', async () => {
    const cache = await DiskCache.open(opts());
    const m = manualFill();
    const pending = cache.getOrFill('k', m.fill);
    await new Promise((r) => setImmediate(r));
    await cache.delete('k');
    m.body.end(Buffer.from('stale!'));
    assert.equal((await readAll((await pending).entry.open())).toString(), 'stale!');
    assert.equal(cache.peek('k'), undefined);
    await cache.close();
  });

  it('refuses ranges outside the entry', async () => {
    const cache = await DiskCache.open(opts());
    const { entry } = await cache.getOrFill('k', fillOf('0123456789'));
    assert.throws(() => entry.open({ start: 10, end: 12 }), (err: unknown) => isStorageError(err, 'InvalidRange'));
    assert.equal((await readAll(entry.open({ start: 8, end: 100 }))).toString(), '89');
    await cache.close();
  });
});

/** Yields to the event loop until `cond` holds (no timers: progress, not time, is awaited). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

async function listFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of await readdir(dataDir)) for (const f of await readdir(join(dataDir, sub))) out.push(join(dataDir, sub, f));
  return out;
}

function hashName(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
