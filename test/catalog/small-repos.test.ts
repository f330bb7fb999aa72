import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { catalogBackends, withCatalog } from '../helpers/catalogs.ts';
import { rejectsWith } from './fixtures.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('base64');

for (const backend of catalogBackends()) {
  describe(`blobs (${backend.name})`, () => {
    test('put records once (first wins), get reads it back', () =>
      withCatalog(backend, async (catalog) => {
        const hash = sha('bytes');
        assert.equal(await catalog.blobs.get(hash), undefined);
        const info = { width: 640, height: 480 };
        const first = await catalog.blobs.put({ hash, kind: 'image', bucket: 'b1', key: 'k1', size: 5, mime: 'image/png', info });
        assert.equal(first.hash, hash);
        assert.deepEqual(first.info, info);
        assert.match(first.createdAt, /Z$/);
        const second = await catalog.blobs.put({ hash, kind: 'image', bucket: 'b2', key: 'k2', size: 5, mime: 'image/png', info: {} });
        assert.deepEqual(second, first);
        assert.deepEqual(await catalog.blobs.get(hash), first);
        await rejectsWith(catalog.blobs.put({ hash: 'h', kind: 'audio' as 'image', bucket: 'b', key: 'k', size: 1, mime: 'x', info: {} }), 'InvalidInput');
      }));

    test('existing handles thousands of hashes (chunked IN lists)', () =>
      withCatalog(backend, async (catalog) => {
        const stored = Array.from({ length: 30 }, (_, i) => sha(`stored-${i}`));
        for (const hash of stored) {
          await catalog.blobs.put({ hash, kind: 'video', bucket: 'b', key: hash, size: 1, mime: 'video/mp4', info: { duration: 1 } });
        }
        // 12,000 > one IN chunk (5,000), and far above the 999-parameter limit of old SQLite builds.
        const asked = [...Array.from({ length: 12_000 }, (_, i) => sha(`missing-${i}`)), ...stored, stored[0]!];
        const found = await catalog.blobs.existing(asked);
        assert.deepEqual(found.sort(), [...stored].sort());
        assert.deepEqual(await catalog.blobs.existing([]), []);
      }));
  });

  describe(`api keys (${backend.name})`, () => {
    test('create, find, touch, list, revoke by id and by name', () =>
      withCatalog(backend, async (catalog) => {
        const admin = await catalog.apiKeys.create({ name: 'ci', role: 'admin', prefix: 'stw_ab12', keyHash: 'hash-1' });
        const user = await catalog.apiKeys.create({ name: 'laptop', role: 'user', prefix: 'stw_cd34', keyHash: 'hash-2' });
        await catalog.apiKeys.create({ name: 'laptop', role: 'user', prefix: 'stw_ef56', keyHash: 'hash-3' });
        assert.deepEqual(
          { name: admin.name, role: admin.role, prefix: admin.prefix, lastUsedAt: admin.lastUsedAt, revokedAt: admin.revokedAt },
          { name: 'ci', role: 'admin', prefix: 'stw_ab12', lastUsedAt: null, revokedAt: null },
        );
        assert.equal('keyHash' in admin, false);

        const found = await catalog.apiKeys.findActiveByHash('hash-1');
        assert.deepEqual(found, { ...admin, keyHash: 'hash-1' });
        assert.equal(await catalog.apiKeys.findActiveByHash('nope'), undefined);

        await catalog.apiKeys.touch(admin.id);
        const touched = await catalog.apiKeys.findActiveByHash('hash-1');
        assert.match(touched?.lastUsedAt ?? '', /^\d{4}-.*Z$/);

        assert.equal(await catalog.apiKeys.revoke(admin.id), 1);
        assert.equal(await catalog.apiKeys.revoke(admin.id), 0);
        assert.equal(await catalog.apiKeys.findActiveByHash('hash-1'), undefined);
        assert.equal(await catalog.apiKeys.revoke('laptop'), 2);
        assert.equal(await catalog.apiKeys.revoke('nobody'), 0);
        assert.equal(await catalog.apiKeys.findActiveByHash('hash-2'), undefined);

        const listed = await catalog.apiKeys.list();
        assert.deepEqual(listed.map((k) => k.id), [admin.id, user.id, user.id + 1]);
        assert.ok(listed.every((k) => k.revokedAt !== null && !('keyHash' in k)));
        await rejectsWith(catalog.apiKeys.create({ name: 'x', role: 'root' as 'admin', prefix: 'p', keyHash: 'h' }), 'InvalidInput');
      }));
  });

  describe(`settings (${backend.name})`, () => {
    test('setIfAbsent keeps the first value, also under concurrency', () =>
      withCatalog(backend, async (catalog) => {
        assert.equal(await catalog.settings.get('secret'), undefined);
        assert.equal(await catalog.settings.setIfAbsent('secret', 'one'), 'one');
        assert.equal(await catalog.settings.setIfAbsent('secret', 'two'), 'one');
        assert.equal(await catalog.settings.get('secret'), 'one');

        const values = await Promise.all(Array.from({ length: 8 }, (_, i) => catalog.settings.setIfAbsent('race', `v${i}`)));
        assert.equal(new Set(values).size, 1);
        assert.equal(await catalog.settings.get('race'), values[0]);
      }));
  });
}
