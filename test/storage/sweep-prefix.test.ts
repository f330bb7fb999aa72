import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ListOptions, ObjectStore } from '../../src/storage/object-store.ts';
import { deleteStaleUnder } from '../../src/storage/sweep-prefix.ts';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';

describe('deleteStaleUnder', () => {
  let dir: string;
  let store: LocalStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-sweep-'));
    store = createLocalStore({ root: dir });
    await store.ensureBucket('bkt');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes only old objects under the prefix, across pages', async () => {
    const put = (key: string) => store.put('bkt', key, Readable.from([Buffer.from(key)]));
    const old = Array.from({ length: 5 }, (_, i) => `tmp/ingest/old-${i}`);
    for (const k of [...old, 'tmp/ingest/fresh', 'images/original/keep']) await put(k);
    const past = new Date(Date.now() - 3 * 24 * 3600_000);
    for (const k of [...old, 'images/original/keep']) await utimes(join(dir, 'bkt', k), past, past);
    // A page size of 2 is forced through a wrapper, so continuation is exercised.
    const paged = {
      list: (bucket: string, o: ListOptions = {}) => store.list(bucket, { ...o, maxKeys: 2 }),
      delete: (bucket: string, key: string) => store.delete(bucket, key),
    } as unknown as ObjectStore;
    assert.equal(await deleteStaleUnder(paged, 'bkt', 'tmp/ingest/', 24 * 3600_000), 5);
    const left = (await store.list('bkt')).objects.map((o) => o.key);
    assert.deepEqual(left, ['images/original/keep', 'tmp/ingest/fresh']);
  });
});
