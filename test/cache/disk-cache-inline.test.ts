import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Readable } from 'node:stream';
import { until } from '../helpers/until.ts';
import { DiskCache, INLINE_MAX_BYTES, type DiskCacheOptions, type FillMeta, type FillResult } from '../../src/cache/disk-cache.ts';

// Small fills made in memory (previews, video frames) live in the cache's index, not in files.

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A fill that made its output in memory, as previews do; counts its calls. */
function memoryFill(bytes: Buffer, extra: Partial<FillMeta> = {}): { fill: () => Promise<FillResult>; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    fill: async () => {
      calls += 1;
      return { bytes, contentType: 'image/jpeg', ...extra };
    },
  };
}

const bytesOf = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_v, i) => (i * seed + 7) % 251));

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('DiskCache: entries kept in the index', () => {
  let dir: string;
  let now: number;
  const opts = (o: Partial<DiskCacheOptions> = {}): DiskCacheOptions =>
    ({ dir, maxBytes: 10_000_000, maxAgeMs: 60_000, name: 'previews', clock: () => now, ...o });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-inline-cache-'));
    roots.push(dir);
    now = 1_700_000_000_000;
  });

  it('keeps a small fill made in memory without a file, and serves it and its ranges', async () => {
    const cache = await DiskCache.open(opts());
    const bytes = bytesOf(30_000);
    const m = memoryFill(bytes);
    const first = await cache.getOrFill('preview-1', m.fill);
    assert.equal(first.hit, false);
    assert.equal(first.entry.etag, `"${createHash('sha256').update(bytes).digest('hex')}"`);
    assert.deepEqual(await filesUnder(join(dir, 'data')), []);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    const again = await cache.getOrFill('preview-1', m.fill);
    assert.equal(again.hit, true);
    assert.equal(m.calls(), 1);
    assert.ok((await readAll(again.entry.open())).equals(bytes));
    assert.ok((await readAll(again.entry.open({ start: 100, end: 199 }))).equals(bytes.subarray(100, 200)));
    const s = cache.stats();
    assert.deepEqual([s.hits, s.misses, s.entries, s.sizeBytes, s.bytesFetched], [1, 1, 1, 30_000, 30_000]);
    assert.equal(s.bytesServed, 30_100);
    await cache.close();
  });

  it('serves them after a restart without filling again', async () => {
    const bytes = bytesOf(5000, 3);
    const first = await DiskCache.open(opts());
    await first.getOrFill('kept', memoryFill(bytes, { etag: '"p1"' }).fill);
    await first.close();
    // The restart repairs the folder (files without rows, rows without files): inline rows have no file and stay.
    const second = await DiskCache.open(opts());
    const got = await second.getOrFill('kept', () => assert.fail('must not fill again'));
    assert.equal(got.hit, true);
    assert.equal(got.entry.etag, '"p1"');
    assert.ok((await readAll(got.entry.open())).equals(bytes));
    await second.close();
  });

  it('writes larger outputs, streamed ones, and all of them with inlineMaxBytes 0, to files', async () => {
    const cache = await DiskCache.open(opts());
    await cache.getOrFill('big', memoryFill(bytesOf(INLINE_MAX_BYTES + 1)).fill);
    await cache.getOrFill('streamed', async () => ({ body: Readable.from([bytesOf(100)]), contentType: 'text/plain' }));
    assert.equal((await filesUnder(join(dir, 'data'))).length, 2);
    await cache.close();
    const noInline = await DiskCache.open(opts({ inlineMaxBytes: 0 }));
    await noInline.getOrFill('small', memoryFill(bytesOf(10)).fill);
    assert.equal((await filesUnder(join(dir, 'data'))).length, 3);
    assert.ok((await readAll((await noInline.getOrFill('big', () => assert.fail('cached'))).entry.open())).equals(bytesOf(INLINE_MAX_BYTES + 1)));
    await noInline.close();
  });

  it('evicts the least recently used, inline or not, to stay under its size', async () => {
    const cache = await DiskCache.open(opts({ maxBytes: 2500 }));
    await cache.getOrFill('a', memoryFill(bytesOf(1000, 1)).fill);
    await cache.getOrFill('b', async () => ({ body: Readable.from([bytesOf(1000, 2)]), contentType: 'text/plain' }));
    now += 1;
    await cache.get('a');
    await cache.getOrFill('c', memoryFill(bytesOf(1000, 3)).fill);
    await cache.drain();
    assert.equal(cache.peek('b'), undefined);
    assert.ok(cache.peek('a') !== undefined && cache.peek('c') !== undefined);
    assert.deepEqual(await filesUnder(join(dir, 'data')), []);
    const s = cache.stats();
    assert.deepEqual([s.entries, s.sizeBytes, s.evictions], [2, 2000, 1]);
    await cache.close();
  });

  it('shares one fill among 100 concurrent callers, streamed or whole', async () => {
    const cache = await DiskCache.open(opts());
    const bytes = bytesOf(20_000, 5);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const m = memoryFill(bytes);
    const slowFill = async () => { await gate; return m.fill(); };
    const whole = Array.from({ length: 50 }, () => cache.getOrFill('shared', slowFill));
    const streamed = Array.from({ length: 50 }, (_v, i) => cache.streamOrFill('shared', slowFill, { range: { start: i, end: i + 9 } }));
    release();
    for (const r of await Promise.all(whole)) assert.ok((await readAll(r.entry.open())).equals(bytes));
    for (const [i, r] of (await Promise.all(streamed)).entries()) assert.ok((await readAll(r.body)).equals(bytes.subarray(i, i + 10)));
    assert.equal(m.calls(), 1);
    await cache.close();
  });

  it('misses, without an error, an entry another process cleared', async () => {
    const cache = await DiskCache.open(opts());
    await cache.getOrFill('gone', memoryFill(bytesOf(100)).fill);
    // What `stowage cache clear` does from the CLI next to a running server.
    const cli = await DiskCache.open(opts({ repair: false }));
    await cli.clear();
    await cli.close();
    assert.equal(await cache.get('gone'), undefined);
    assert.equal(cache.stats().entries, 0);
    await cache.close();
  });

  it('forgets, within a second and without a lookup, what another process cleared', async () => {
    const cache = await DiskCache.open(opts());
    await cache.getOrFill('inline', memoryFill(bytesOf(100)).fill);
    await cache.getOrFill('file', async () => ({ body: Readable.from([bytesOf(100)]), contentType: 'text/plain' }));
    const cli = await DiskCache.open(opts({ repair: false }));
    await cli.clear();
    await cli.close();
    // What memory copies of previews rely on: `peek` and memory hits consult only the ledger.
    await until(() => cache.peek('inline') === undefined && cache.peek('file') === undefined, 'the cleared entries to be forgotten', 10);
    assert.equal(cache.memoryHit('inline', 100), false);
    assert.deepEqual([cache.stats().entries, cache.stats().sizeBytes], [0, 0]);
    await cache.close();
  });

  it('gives the space back to the file system when cleared', async () => {
    const cache = await DiskCache.open(opts());
    for (let i = 0; i < 40; i++) await cache.getOrFill(`p${i}`, memoryFill(bytesOf(64 * 1024, i + 1)).fill);
    await cache.close();
    const full = (await stat(join(dir, 'index.sqlite'))).size;
    assert.ok(full > 2_500_000, `index holds the bytes (${full})`);
    const again = await DiskCache.open(opts());
    await again.clear();
    await again.close();
    assert.ok((await stat(join(dir, 'index.sqlite'))).size < full / 4);
  });

  it('starts afresh from an index of the earlier layout (entries in files only)', async () => {
    const db = new DatabaseSync(join(dir, 'index.sqlite'));
    db.exec(`create table entries (key text primary key, file text not null, size integer not null, content_type text not null,
      etag text not null, created_at integer not null, last_modified integer not null, last_access integer not null);
      insert into entries values ('old', 'ab-1', 3, 'text/plain', '"x"', 1, 1, 1); pragma user_version = 1;`);
    db.close();
    const cache = await DiskCache.open(opts());
    assert.equal(cache.peek('old'), undefined);
    await cache.getOrFill('new', memoryFill(bytesOf(10)).fill);
    assert.equal((await cache.getOrFill('new', () => assert.fail('cached'))).hit, true);
    await cache.close();
  });
});
