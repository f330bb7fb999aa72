import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessFailures, accessOk, checkBucketAccess } from '../../src/storage/access-check.ts';
import { StorageError } from '../../src/storage/errors.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { renderAccessTable } from '../../src/cli/storage-commands.ts';

describe('bucket access check', () => {
  it('passes on a writable bucket and leaves no probe behind', async () => {
    const root = await mkdtemp(join(tmpdir(), 'stowage-access-'));
    const store = createLocalStore({ root });
    await store.ensureBucket('ok-bucket');
    const res = await checkBucketAccess(store, 'ok-bucket', { multipart: true });
    assert.ok(accessOk(res), JSON.stringify(res));
    assert.equal((await store.list('ok-bucket')).objects.length, 0);
    await rm(root, { recursive: true, force: true });
  });

  it('reports a missing bucket and a denied write without throwing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'stowage-access-'));
    const store = createLocalStore({ root });
    const missing = await checkBucketAccess(store, 'missing-bucket', { multipart: false });
    assert.equal(accessOk(missing), false);
    assert.match(accessFailures(missing).join('\n'), /bucket missing-bucket: write failed/);
    await store.ensureBucket('read-only');
    const readOnly = new Proxy(store, {
      get(target, prop) {
        if (prop === 'put') return async () => { throw new StorageError('PermissionDenied', 'write denied by policy'); };
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as ObjectStore;
    const denied = await checkBucketAccess(readOnly, 'read-only', { multipart: false });
    assert.deepEqual(denied.results.write, { ok: false, kind: 'PermissionDenied', message: 'write denied by policy' });
    assert.equal(denied.results.list.ok, true);
    const table = renderAccessTable('minio', 'http://127.0.0.1:9', [denied]);
    assert.match(table, /^provider\s+endpoint\s+bucket\s+write\s+read\s+list\s+multipart\s+delete/);
    assert.match(table, /read-only\s+PermissionDenied/);
    assert.match(table, /read-only write: write denied by policy/);
    await rm(root, { recursive: true, force: true });
  });
});
