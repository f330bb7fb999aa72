import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { backoffDelay, withRetries } from '../../src/storage/retrying-store.ts';

/** A local store whose next `failures` calls of `op` fail with `kind`. */
async function flaky(op: keyof ObjectStore, kind: StorageErrorKind, failures: number) {
  const root = await mkdtemp(join(tmpdir(), 'stowage-retry-'));
  const inner = createLocalStore({ root });
  await inner.ensureBucket('bkt');
  await inner.put('bkt', 'k', Readable.from([Buffer.from('hello')]));
  let left = failures;
  let calls = 0;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== op || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        calls++;
        if (left-- > 0) throw new StorageError(kind, `injected ${kind}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as ObjectStore;
  return { store, calls: () => calls, cleanup: () => rm(root, { recursive: true, force: true }) };
}

describe('retry layer', () => {
  it('retries RateLimited and Unavailable with growing, jittered back-off', async () => {
    for (const kind of ['RateLimited', 'Unavailable'] as const) {
      const f = await flaky('head', kind, 3);
      const delays: number[] = [];
      const store = withRetries(f.store, { sleep: async (ms) => { delays.push(ms); }, random: () => 0.999, baseDelayMs: 100 });
      const info = await store.head('bkt', 'k');
      assert.equal(info.size, 5);
      assert.equal(f.calls(), 4);
      assert.deepEqual(delays, [99, 199, 399]);
      await f.cleanup();
    }
  });

  it('does not retry permanent errors', async () => {
    for (const kind of ['NotFound', 'PermissionDenied', 'Unauthenticated', 'InvalidKey', 'ConfigInvalid'] as const) {
      const f = await flaky('get', kind, 1);
      const store = withRetries(f.store, { sleep: async () => undefined });
      await assert.rejects(store.get('bkt', 'k'), (err: StorageError) => err.kind === kind);
      assert.equal(f.calls(), 1);
      await f.cleanup();
    }
  });

  it('gives up after maxAttempts with the last error', async () => {
    const f = await flaky('list', 'Unavailable', 10);
    const store = withRetries(f.store, { sleep: async () => undefined, maxAttempts: 3 });
    await assert.rejects(store.list('bkt'), (err: StorageError) => err.kind === 'Unavailable');
    assert.equal(f.calls(), 3);
    await f.cleanup();
  });

  it('never replays a one-shot body stream', async () => {
    const f = await flaky('put', 'Unavailable', 1);
    const store = withRetries(f.store, { sleep: async () => undefined });
    await assert.rejects(store.put('bkt', 'new', Readable.from([Buffer.from('x')])), (err: StorageError) => err.kind === 'Unavailable');
    assert.equal(f.calls(), 1);
    await f.cleanup();
  });

  it('caps the back-off and keeps it within [0, cap)', () => {
    const o = { baseDelayMs: 200, maxDelayMs: 1000, random: () => 0.5 };
    assert.equal(backoffDelay(1, o), 100);
    assert.equal(backoffDelay(10, o), 500);
    assert.equal(backoffDelay(3, { ...o, random: () => 0 }), 0);
  });
});
