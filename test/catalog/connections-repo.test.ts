import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { catalogBackends, withCatalog } from '../helpers/catalogs.ts';

for (const backend of catalogBackends()) {
  describe(`connections (${backend.name})`, () => {
    test('create, get, list by name, update, remove', () =>
      withCatalog(backend, async (catalog) => {
        assert.deepEqual(await catalog.connections.list(), []);
        const settings = { provider: 'minio', access_key: 'AKIA', secret_key: 's3cr3t', buckets: ['b1', 'b2'] };
        const zed = await catalog.connections.create({ name: 'zed', provider: 'minio', settings });
        assert.equal(zed.name, 'zed');
        assert.deepEqual(zed.settings, settings);
        assert.match(zed.createdAt, /Z$/);
        await catalog.connections.create({ name: 'alpha', provider: 'fs', settings: { provider: 'fs', path: '/data', buckets: ['local'] } });
        assert.deepEqual((await catalog.connections.list()).map((c) => c.name), ['alpha', 'zed']);
        assert.deepEqual(await catalog.connections.get('zed'), zed);

        const updated = await catalog.connections.update('zed', { provider: 'azure', settings: { provider: 'azure', buckets: ['c'] } });
        assert.equal(updated?.provider, 'azure');
        assert.deepEqual(updated?.settings, { provider: 'azure', buckets: ['c'] });
        assert.equal(updated?.createdAt, zed.createdAt);
        assert.equal(await catalog.connections.update('nobody', { provider: 'fs', settings: {} }), undefined);

        assert.equal(await catalog.connections.remove('zed'), true);
        assert.equal(await catalog.connections.remove('zed'), false);
        assert.equal(await catalog.connections.get('zed'), undefined);
      }));

    test('a taken name is a NONUNIQUE conflict naming the holder', () =>
      withCatalog(backend, async (catalog) => {
        const first = await catalog.connections.create({ name: 'dup', provider: 'minio', settings: { buckets: ['x'] } });
        await assert.rejects(catalog.connections.create({ name: 'dup', provider: 'fs', settings: {} }), (err: unknown) => {
          assert.ok(err instanceof AppError);
          assert.equal(err.kind, 'Conflict');
          assert.deepEqual(err.details, { type: 'NONUNIQUE', errors: [{ name: 'dup', id: first.id }] });
          return true;
        });
        assert.equal((await catalog.connections.list()).length, 1);
      }));
  });
}
