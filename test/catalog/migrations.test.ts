import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCatalog, parseCatalogUrl } from '../../src/catalog/create-catalog.ts';
import { MIGRATIONS } from '../../src/catalog/migrations.ts';
import { DEFAULT_TEAM_ID, DEFAULT_WORKSPACE_ID } from '../../src/catalog/types.ts';
import { catalogBackends, dropCatalog, withCatalog } from '../helpers/catalogs.ts';
import { rejectsWith } from './fixtures.ts';

describe('catalog URLs', () => {
  test('sqlite paths, memory and postgres schemas parse', () => {
    assert.deepEqual(parseCatalogUrl('sqlite:/tmp/x/c.db'), { dialect: 'sqlite', path: '/tmp/x/c.db' });
    assert.deepEqual(parseCatalogUrl('sqlite:///tmp/c.db'), { dialect: 'sqlite', path: '/tmp/c.db' });
    assert.deepEqual(parseCatalogUrl('sqlite::memory:'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseCatalogUrl('postgresql://u@h:5432/db?schema=t_1&sslmode=disable'), {
      dialect: 'postgres',
      connectionString: 'postgresql://u@h:5432/db?sslmode=disable',
      schema: 't_1',
    });
  });

  test('unknown schemes and unsafe schema names are refused', async () => {
    await rejectsWith(createCatalog({ url: 'mysql://x/y' }), 'InvalidInput');
    await rejectsWith(createCatalog({ url: 'postgres://root@127.0.0.1/test?schema=a;drop' }), 'InvalidInput');
    await rejectsWith(createCatalog({ url: 'sqlite:' }), 'InvalidInput');
  });

  test('an in-memory SQLite catalog works', async () => {
    const catalog = await createCatalog({ url: 'sqlite::memory:' });
    try {
      assert.equal(catalog.dialect, 'sqlite');
      assert.equal((await catalog.projects.list({ limit: 10 })).total, 0);
    } finally {
      await catalog.close();
    }
  });
});

for (const backend of catalogBackends()) {
  describe(`catalog migrations (${backend.name})`, () => {
    test('opening twice applies the migrations once and keeps the data', async () => {
      const url = backend.url();
      const logs: object[] = [];
      const logger = { info: (obj: object, msg?: string) => logs.push({ ...obj, msg }) };
      try {
        const first = await createCatalog({ url, logger });
        assert.equal(first.dialect, backend.name);
        const project = await first.projects.create({ name: 'kept', type: 'images', workspaceId: DEFAULT_WORKSPACE_ID });
        await first.close();
        await first.close(); // idempotent
        const applied = logs.filter((l) => 'msg' in l && l.msg === 'catalog migration applied');
        assert.equal(applied.length, MIGRATIONS.length);

        logs.length = 0;
        const second = await createCatalog({ url, logger });
        assert.deepEqual(logs.filter((l) => 'msg' in l && l.msg === 'catalog migration applied'), []);
        assert.equal((await second.projects.get(project.id))?.name, 'kept');
        await second.close();
      } finally {
        await dropCatalog(url);
      }
    });

    test('seeds the default team and workspace (id 1)', () =>
      withCatalog(backend, async (catalog) => {
        const project = await catalog.projects.create({ name: 'p', type: 'videos', workspaceId: DEFAULT_WORKSPACE_ID });
        assert.equal(project.workspaceId, DEFAULT_WORKSPACE_ID);
        assert.equal(project.teamId, DEFAULT_TEAM_ID);
        await rejectsWith(catalog.projects.create({ name: 'p', type: 'images', workspaceId: 42 }), 'NotFound');
      }));

    test('instances starting together on one database migrate it once', async () => {
      const url = backend.url();
      const logs: object[] = [];
      const logger = { info: (obj: object, msg?: string) => msg === 'catalog migration applied' && logs.push(obj) };
      try {
        const catalogs = await Promise.all(Array.from({ length: 4 }, () => createCatalog({ url, logger })));
        assert.equal(logs.length, MIGRATIONS.length);
        const created = await Promise.all(
          catalogs.map((c, i) => c.projects.create({ name: `p${i}`, type: 'images', workspaceId: DEFAULT_WORKSPACE_ID })),
        );
        assert.equal(new Set(created.map((p) => p.id)).size, 4);
        assert.equal((await catalogs[0]!.projects.list({ limit: 10 })).total, 4);
        await Promise.all(catalogs.map((c) => c.close()));
      } finally {
        await dropCatalog(url);
      }
    });
  });
}
