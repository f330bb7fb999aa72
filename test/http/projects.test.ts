import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

for (const backend of catalogBackends()) {
  describe(`projects and datasets API (${backend.name})`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend.url()); });
    after(async () => { await t?.close(); });

    it('answers instance.version to the SDK probe', async () => {
      const v = await t.ok('instance.version', {});
      assert.equal(typeof v.version, 'string');
    });

    it('creates, reads and lists projects with the wire keys', async () => {
      const p = await t.ok('projects.add', { name: 'cars', workspaceId: 1, description: 'd', type: 'images' });
      assert.equal(p.name, 'cars');
      assert.equal(p.type, 'images');
      assert.equal(p.workspaceId, 1);
      assert.equal(p.teamId, 1);
      const info = await t.ok('projects.info', { id: p.id });
      assert.equal(info.id, p.id);
      for (const k of ['imagesCount', 'itemsCount', 'datasetsCount', 'createdAt', 'updatedAt', 'customData']) assert.ok(k in info, k);
      const list = await t.ok('projects.list', { workspaceId: 1, filter: [{ field: 'name', operator: '=', value: 'cars' }] });
      assert.equal(list.total, 1);
      assert.equal(list.pagesCount, 1);
      assert.equal(list.entities[0].id, p.id);
      const byTeam = await t.ok('projects.list', { groupId: 1 });
      assert.ok(byTeam.total >= 1);
    });

    it('rejects a duplicate project name with a NONUNIQUE-style 400', async () => {
      await t.ok('projects.add', { name: 'dup', workspaceId: 1 });
      const res = await t.call('projects.add', { name: 'dup', workspaceId: 1 });
      assert.equal(res.status, 400);
      const body = await res.json() as { error: string; details: { type?: string } };
      assert.match(body.error, /dup/);
    });

    it('names the invalid field in a 400', async () => {
      const res = await t.call('projects.add', { name: '', workspaceId: 1 });
      assert.equal(res.status, 400);
      const body = await res.json() as { error: string; details: { field: string } };
      assert.equal(body.details.field, 'name');
      const res2 = await t.call('projects.add', { name: 'x', type: 'point_clouds' });
      assert.equal(res2.status, 400);
      assert.equal((await res2.json() as { details: { field: string } }).details.field, 'type');
    });

    it('answers 404 JSON for a missing project or workspace', async () => {
      const res = await t.call('projects.info', { id: 999999 });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('content-type')?.startsWith('application/json'), true);
      const ws = await t.call('projects.add', { name: 'elsewhere', workspaceId: 77 });
      assert.equal(ws.status, 404);
    });

    it('nests datasets and lists them recursively or by level', async () => {
      const p = await t.ok('projects.add', { name: 'nested', workspaceId: 1 });
      const root = await t.ok('datasets.add', { projectId: p.id, name: 'root', parentId: null });
      const child = await t.ok('datasets.add', { projectId: p.id, name: 'child', parentId: root.id });
      const grand = await t.ok('datasets.add', { projectId: p.id, name: 'grand', parentId: child.id });
      assert.equal(grand.parentId, child.id);
      const top = await t.ok('datasets.list', { projectId: p.id, recursive: false });
      assert.deepEqual(top.entities.map((d: { id: number }) => d.id), [root.id]);
      const all = await t.ok('datasets.list', { projectId: p.id, recursive: true });
      assert.deepEqual(all.entities.map((d: { id: number }) => d.id).sort(), [root.id, child.id, grand.id].sort());
      const underRoot = await t.ok('datasets.list', { projectId: p.id, recursive: true, filter: [{ field: 'parentId', operator: '=', value: root.id }] });
      assert.deepEqual(underRoot.entities.map((d: { id: number }) => d.id), [child.id]);
      const info = await t.ok('datasets.info', { id: child.id });
      assert.equal(info.projectId, p.id);
      const proj = await t.ok('projects.info', { id: p.id });
      assert.equal(proj.datasetsCount, 3);
    });

    it('refuses a parent from another project and a missing project', async () => {
      const a = await t.ok('projects.add', { name: 'pa', workspaceId: 1 });
      const b = await t.ok('projects.add', { name: 'pb', workspaceId: 1 });
      const da = await t.ok('datasets.add', { projectId: a.id, name: 'x' });
      const res = await t.call('datasets.add', { projectId: b.id, name: 'y', parentId: da.id });
      assert.equal(res.status, 400);
      assert.equal((await t.call('datasets.add', { projectId: 424242, name: 'z' })).status, 404);
    });

    it('pages lists in page and token mode', async () => {
      const p = await t.ok('projects.add', { name: 'paging', workspaceId: 1 });
      for (let i = 0; i < 5; i++) await t.ok('datasets.add', { projectId: p.id, name: `ds${i}` });
      const first = await t.ok('datasets.list', { projectId: p.id, per_page: 2 });
      assert.equal(first.total, 5);
      assert.equal(first.pagesCount, 3);
      assert.equal(first.perPage, 2);
      const page3 = await t.ok('datasets.list', { projectId: p.id, per_page: 2, page: 3 });
      assert.equal(page3.entities.length, 1);
      const seen: number[] = [];
      let after: string | null | undefined;
      do {
        const page = await t.ok('datasets.list', { projectId: p.id, per_page: 2, pagination_mode: 'token', ...(after ? { after } : {}) });
        assert.ok('after' in page);
        seen.push(...page.entities.map((d: { id: number }) => d.id));
        after = page.after;
      } while (after);
      assert.equal(seen.length, 5);
      assert.equal(new Set(seen).size, 5);
    });

    it('rejects an unknown filter field with 400', async () => {
      const res = await t.call('projects.list', { filter: [{ field: 'password', operator: '=', value: 1 }] });
      assert.equal(res.status, 400);
    });
  });
}
