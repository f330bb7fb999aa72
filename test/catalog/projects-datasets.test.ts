import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_WORKSPACE_ID, type Catalog } from '../../src/catalog/types.ts';
import { catalogBackends, withCatalog } from '../helpers/catalogs.ts';
import { rejectsWith } from './fixtures.ts';

const ws = DEFAULT_WORKSPACE_ID;

async function threeProjects(catalog: Catalog) {
  const alpha = await catalog.projects.create({ name: 'alpha', type: 'images', workspaceId: ws, description: 'first' });
  const beta = await catalog.projects.create({ name: 'Beta', type: 'videos', workspaceId: ws });
  const gamma = await catalog.projects.create({ name: 'gamma_1', type: 'images', workspaceId: ws });
  return { alpha, beta, gamma };
}

for (const backend of catalogBackends()) {
  describe(`projects (${backend.name})`, () => {
    test('create/get round-trips fields and JSON', () =>
      withCatalog(backend, async (catalog) => {
        const customData = { nested: { a: [1, 'two', null, true] }, 'ключ': 'значение 🚀' };
        const created = await catalog.projects.create({
          name: 'p',
          type: 'images',
          workspaceId: ws,
          description: 'd',
          readme: '# hi',
          customData,
          settings: { classes: ['cat'] },
          createdBy: 7,
        });
        assert.equal(typeof created.id, 'number');
        assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.equal(created.createdAt, created.updatedAt);
        const got = await catalog.projects.get(created.id);
        assert.deepEqual(got, created);
        assert.deepEqual(got?.customData, customData);
        assert.deepEqual(got?.settings, { classes: ['cat'] });
        assert.equal(got?.createdBy, 7);
        assert.equal(got?.itemsCount, 0);
        assert.equal(got?.datasetsCount, 0);
        assert.equal(got?.size, 0);
        assert.equal(await catalog.projects.get(999_999), undefined);
      }));

    test('names are unique per workspace (NONUNIQUE conflict)', () =>
      withCatalog(backend, async (catalog) => {
        const first = await catalog.projects.create({ name: 'same', type: 'images', workspaceId: ws });
        const err = await rejectsWith(catalog.projects.create({ name: 'same', type: 'videos', workspaceId: ws }), 'Conflict');
        assert.deepEqual(err.details, { type: 'NONUNIQUE', errors: [{ name: 'same', id: first.id }] });
        await rejectsWith(catalog.projects.create({ name: ' ', type: 'images', workspaceId: ws }), 'InvalidInput');
        await rejectsWith(catalog.projects.create({ name: 'x', type: 'audio' as 'images', workspaceId: ws }), 'InvalidInput');
      }));

    test('concurrent creates of one name: one wins, the other gets the conflict', () =>
      withCatalog(backend, async (catalog) => {
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => catalog.projects.create({ name: 'race', type: 'images', workspaceId: ws })),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.equal(r.reason.kind, 'Conflict');
      }));

    test('list filters, sorts and pages', () =>
      withCatalog(backend, async (catalog) => {
        const { alpha, beta, gamma } = await threeProjects(catalog);
        const all = await catalog.projects.list({ limit: 10 });
        assert.equal(all.total, 3);
        assert.deepEqual(all.rows.map((p) => p.id), [alpha.id, beta.id, gamma.id]);

        const byName = await catalog.projects.list({ limit: 10, sort: 'name', sortOrder: 'desc' });
        assert.deepEqual(byName.rows.map((p) => p.name), ['gamma_1', 'alpha', 'Beta']);

        const contains = await catalog.projects.list({ limit: 10, filters: [{ field: 'name', operator: 'contains', value: 'BET' }] });
        assert.deepEqual(contains.rows.map((p) => p.id), [beta.id]);
        // LIKE wildcards in the value are literal.
        const underscore = await catalog.projects.list({ limit: 10, filters: [{ field: 'name', operator: 'contains', value: 'a_' }] });
        assert.deepEqual(underscore.rows.map((p) => p.id), [gamma.id]);

        const inIds = await catalog.projects.list({ limit: 10, filters: [{ field: 'id', operator: 'in', value: [alpha.id, gamma.id, 999] }] });
        assert.deepEqual(inIds.rows.map((p) => p.id), [alpha.id, gamma.id]);
        const none = await catalog.projects.list({ limit: 10, filters: [{ field: 'id', operator: 'in', value: [] }] });
        assert.deepEqual(none, { total: 0, rows: [] });

        const page = await catalog.projects.list({ limit: 1, offset: 1, filters: [{ field: 'id', operator: '!=', value: alpha.id }] });
        assert.equal(page.total, 2);
        assert.deepEqual(page.rows.map((p) => p.id), [gamma.id]);

        const keyset = await catalog.projects.list({ limit: 5, afterId: alpha.id });
        assert.equal(keyset.total, 3);
        assert.deepEqual(keyset.rows.map((p) => p.id), [beta.id, gamma.id]);
        const keysetDesc = await catalog.projects.list({ limit: 5, afterId: gamma.id, sortOrder: 'desc' });
        assert.deepEqual(keysetDesc.rows.map((p) => p.id), [beta.id, alpha.id]);

        const since = await catalog.projects.list({ limit: 10, filters: [{ field: 'createdAt', operator: '>=', value: alpha.createdAt }] });
        assert.equal(since.total, 3);
        const before = await catalog.projects.list({ limit: 10, filters: [{ field: 'createdAt', operator: '<', value: '2000-01-01' }] });
        assert.equal(before.total, 0);

        assert.equal((await catalog.projects.list({ limit: 10, workspaceId: ws, teamId: 1 })).total, 3);
        assert.equal((await catalog.projects.list({ limit: 10, workspaceId: 2 })).total, 0);
      }));

    test('unknown filter fields, operators, sorts and bad values are InvalidInput', () =>
      withCatalog(backend, async (catalog) => {
        const bad = await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'password', operator: '=', value: 1 }] }), 'InvalidInput');
        assert.equal(bad.details?.field, 'password');
        assert.match(bad.message, /password/);
        // parentId exists on datasets only.
        await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'parentId', operator: '=', value: 1 }] }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'id', operator: 'like' as '=', value: 1 }] }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'id', operator: '=', value: 'x' }] }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'id', operator: 'in', value: 3 }] }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'id', operator: 'contains', value: '1' }] }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'createdAt', operator: '>', value: 'soon' }] }), 'InvalidInput');
        // Inherited object keys are not allow-listed fields.
        await rejectsWith(catalog.projects.list({ limit: 1, filters: [{ field: 'constructor', operator: '=', value: 1 }] }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: 1, sort: 'toString' }), 'InvalidInput');
        const sort = await rejectsWith(catalog.projects.list({ limit: 1, sort: 'readme' }), 'InvalidInput');
        assert.equal(sort.details?.field, 'sort');
        await rejectsWith(catalog.projects.list({ limit: 1, sort: 'name', afterId: 1 }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: -1 }), 'InvalidInput');
        await rejectsWith(catalog.projects.list({ limit: 1, offset: 1.5 }), 'InvalidInput');
      }));
  });

  describe(`datasets (${backend.name})`, () => {
    test('nested datasets, descendants, counters and listing', () =>
      withCatalog(backend, async (catalog) => {
        const project = await catalog.projects.create({ name: 'p', type: 'images', workspaceId: ws });
        const root = await catalog.datasets.create({ projectId: project.id, name: 'root', customData: { k: [1] } });
        const other = await catalog.datasets.create({ projectId: project.id, name: 'other' });
        const child = await catalog.datasets.create({ projectId: project.id, name: 'child', parentId: root.id });
        const grandchild = await catalog.datasets.create({ projectId: project.id, name: 'grandchild', parentId: child.id });
        // The same name is fine under another parent.
        const child2 = await catalog.datasets.create({ projectId: project.id, name: 'child', parentId: other.id });

        assert.deepEqual(await catalog.datasets.get(root.id), root);
        assert.deepEqual(root.customData, { k: [1] });
        assert.equal(root.parentId, null);
        assert.equal(child.parentId, root.id);
        assert.equal(child.teamId, project.teamId);
        assert.equal(child.workspaceId, project.workspaceId);
        assert.equal((await catalog.projects.get(project.id))?.datasetsCount, 5);

        assert.deepEqual(await catalog.datasets.descendantIds(root.id), [root.id, child.id, grandchild.id]);
        assert.deepEqual(await catalog.datasets.descendantIds(grandchild.id), [grandchild.id]);
        assert.deepEqual(await catalog.datasets.descendantIds(999_999), []);

        const top = await catalog.datasets.list({ projectId: project.id, limit: 10 });
        assert.equal(top.total, 2);
        assert.deepEqual(top.rows.map((d) => d.id), [root.id, other.id]);

        const all = await catalog.datasets.list({ projectId: project.id, recursive: true, limit: 10, sort: 'name' });
        assert.equal(all.total, 5);
        assert.deepEqual(all.rows.map((d) => d.id), [child.id, child2.id, grandchild.id, other.id, root.id]);

        const underRoot = await catalog.datasets.list({ projectId: project.id, limit: 10, filters: [{ field: 'parentId', operator: '=', value: root.id }] });
        assert.deepEqual(underRoot.rows.map((d) => d.id), [child.id]);
        const topByFilter = await catalog.datasets.list({ projectId: project.id, limit: 10, filters: [{ field: 'parentId', operator: '=', value: null }] });
        assert.deepEqual(topByFilter.rows.map((d) => d.id), [root.id, other.id]);
        const notUnderRoot = await catalog.datasets.list({ projectId: project.id, limit: 10, filters: [{ field: 'parentId', operator: '!=', value: root.id }] });
        assert.deepEqual(notUnderRoot.rows.map((d) => d.id), [root.id, other.id, grandchild.id, child2.id]);
        const paged = await catalog.datasets.list({ projectId: project.id, recursive: true, limit: 2, afterId: other.id });
        assert.deepEqual(paged.rows.map((d) => d.id), [child.id, grandchild.id]);
        assert.equal(paged.total, 5);
      }));

    test('names are unique per (project, parent), top level included', () =>
      withCatalog(backend, async (catalog) => {
        const project = await catalog.projects.create({ name: 'p', type: 'images', workspaceId: ws });
        const top = await catalog.datasets.create({ projectId: project.id, name: 'a' });
        const err = await rejectsWith(catalog.datasets.create({ projectId: project.id, name: 'a' }), 'Conflict');
        assert.deepEqual(err.details, { type: 'NONUNIQUE', errors: [{ name: 'a', id: top.id }] });
        const nested = await catalog.datasets.create({ projectId: project.id, name: 'a', parentId: top.id });
        const err2 = await rejectsWith(catalog.datasets.create({ projectId: project.id, name: 'a', parentId: top.id }), 'Conflict');
        assert.deepEqual(err2.details, { type: 'NONUNIQUE', errors: [{ name: 'a', id: nested.id }] });
        // Another project may reuse the name.
        const p2 = await catalog.projects.create({ name: 'p2', type: 'images', workspaceId: ws });
        await catalog.datasets.create({ projectId: p2.id, name: 'a' });
        assert.equal((await catalog.projects.get(project.id))?.datasetsCount, 2);
      }));

    test('concurrent top-level creates of one name: exactly one wins', () =>
      withCatalog(backend, async (catalog) => {
        const project = await catalog.projects.create({ name: 'p', type: 'images', workspaceId: ws });
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => catalog.datasets.create({ projectId: project.id, name: 'race' })),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.equal(r.reason.kind, 'Conflict');
        assert.equal((await catalog.projects.get(project.id))?.datasetsCount, 1);
      }));

    test('missing project or parent, and a parent from another project', () =>
      withCatalog(backend, async (catalog) => {
        const p1 = await catalog.projects.create({ name: 'p1', type: 'images', workspaceId: ws });
        const p2 = await catalog.projects.create({ name: 'p2', type: 'images', workspaceId: ws });
        const inP2 = await catalog.datasets.create({ projectId: p2.id, name: 'd' });
        await rejectsWith(catalog.datasets.create({ projectId: 999_999, name: 'x' }), 'NotFound');
        await rejectsWith(catalog.datasets.create({ projectId: p1.id, name: 'x', parentId: 999_999 }), 'NotFound');
        const err = await rejectsWith(catalog.datasets.create({ projectId: p1.id, name: 'x', parentId: inP2.id }), 'InvalidInput');
        assert.equal(err.details?.field, 'parentId');
        assert.equal((await catalog.projects.get(p1.id))?.datasetsCount, 0);
        assert.equal(await catalog.datasets.get(999_999), undefined);
      }));

    test('unknown dataset filter field is InvalidInput', () =>
      withCatalog(backend, async (catalog) => {
        const project = await catalog.projects.create({ name: 'p', type: 'images', workspaceId: ws });
        const err = await rejectsWith(
          catalog.datasets.list({ projectId: project.id, limit: 5, filters: [{ field: 'hash', operator: '=', value: 'x' }] }),
          'InvalidInput',
        );
        assert.equal(err.details?.field, 'hash');
      }));
  });
}
