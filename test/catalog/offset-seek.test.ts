// Pure logic of the checkpoint cache (no database): the SQL side is covered,
// on both backends, by the deep-offset test in items.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OffsetCheckpoints, type SortKey } from '../../src/catalog/offset-seek.ts';

/** A scope whose rows have keys 10, 20, 30... and which counts seeks. */
function scope(rows: number) {
  const keys = Array.from({ length: rows }, (_, i) => (i + 1) * 10);
  const calls: Array<[SortKey | null, number]> = [];
  const seek = async (from: SortKey | null, skip: number) => {
    calls.push([from, skip]);
    const start = from === null ? 0 : keys.findIndex((k) => k >= (from as number));
    return keys[start + skip];
  };
  return { seek, calls };
}

test('checkpoints are found, extended lazily and reused within a revision', async () => {
  const cache = new OffsetCheckpoints(100);
  const { seek, calls } = scope(1_000);
  assert.deepEqual(await cache.before('s', 1, 250, seek), { position: 200, key: 2010 });
  assert.equal(calls.length, 3); // first row, +100, +100
  assert.deepEqual(await cache.before('s', 1, 99, seek), { position: 0, key: 10 });
  assert.equal(calls.length, 3);
  assert.deepEqual(await cache.before('s', 1, 999, seek), { position: 900, key: 9010 });
  assert.equal(calls.length, 10);
  assert.equal(await cache.before('s', 1, 1_000, seek), undefined); // past the end
  assert.equal(await cache.before('s', 1, 5_000, seek), undefined);
  assert.equal(calls.length, 11); // the end is remembered
});

test('a new revision drops the checkpoints; concurrent callers share one build', async () => {
  const cache = new OffsetCheckpoints(100);
  const { seek, calls } = scope(1_000);
  await Promise.all([cache.before('s', 1, 500, seek), cache.before('s', 1, 500, seek), cache.before('s', 1, 300, seek)]);
  assert.equal(calls.length, 6);
  await cache.before('s', 2, 500, seek);
  assert.equal(calls.length, 12);
  await cache.before('other', 2, 100, seek);
  assert.equal(calls.length, 14);
});

test('a failed seek is reported and the next call retries', async () => {
  const cache = new OffsetCheckpoints(10);
  let fail = true;
  const seek = async (from: SortKey | null) => {
    if (fail) throw new Error('boom');
    return from === null ? 1 : (from as number) + 10;
  };
  await assert.rejects(cache.before('s', 1, 25, seek), /boom/);
  fail = false;
  assert.deepEqual(await cache.before('s', 1, 25, seek), { position: 20, key: 21 });
});

test('the least recently used scope is evicted', async () => {
  const cache = new OffsetCheckpoints(10, 2);
  const { seek, calls } = scope(100);
  await cache.before('a', 1, 0, seek);
  await cache.before('b', 1, 0, seek);
  await cache.before('a', 1, 0, seek); // a is now the most recent
  await cache.before('c', 1, 0, seek); // evicts b
  const before = calls.length;
  await cache.before('a', 1, 0, seek);
  assert.equal(calls.length, before);
  await cache.before('b', 1, 0, seek);
  assert.equal(calls.length, before + 1);
});
