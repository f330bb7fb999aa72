import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

for (const backend of catalogBackends()) {
  describe(`authentication (${backend.name})`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend.url()); });
    after(async () => { await t?.close(); });

    it('writes the generated admin key to DATA_PATH/admin.token with mode 0600', async () => {
      const s = await stat(join(t.dataPath, 'admin.token'));
      assert.equal(s.mode & 0o777, 0o600);
      assert.match(t.adminKey, /^stw_[A-Za-z0-9_-]{43}$/);
    });

    it('never writes the admin key to the log', () => {
      assert.ok(t.logs().length > 0);
      assert.ok(!t.logs().includes(t.adminKey));
    });

    it('answers 401 JSON without a key or with a wrong one', async () => {
      for (const key of [null, 'stw_wrong']) {
        const res = await t.call('projects.list', {}, key);
        assert.equal(res.status, 401);
        const body = await res.json() as { error: string };
        assert.match(body.error, /key/i);
      }
    });

    it('keys created and revoked through the service work and then stop working', async () => {
      const created = await t.app.services.auth.createKey('ci', 'user');
      assert.equal((await t.call('projects.list', {}, created.key)).status, 200);
      await t.app.services.catalog.apiKeys.revoke(created.info.id);
      t.app.services.auth.clearCache();
      assert.equal((await t.call('projects.list', {}, created.key)).status, 401);
    });

    it('answers 404 JSON for an unknown method, even before auth', async () => {
      const res = await t.call('images.nope', {});
      assert.equal(res.status, 404);
      const body = await res.json() as { error: string };
      assert.match(body.error, /images\.nope/);
    });

    it('answers 400 JSON for a malformed JSON body', async () => {
      const res = await fetch(`${t.baseUrl}/public/api/v3/projects.list`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': t.adminKey }, body: '{not json',
      });
      assert.equal(res.status, 400);
      assert.ok((await res.json() as { error: string }).error);
    });
  });

  describe(`STOWAGE_ADMIN_TOKEN (${backend.name})`, () => {
    let t: TestApp;
    const token = 'operator-chosen-admin-token-0123456789';
    before(async () => { t = await startTestApp(backend.url(), { STOWAGE_ADMIN_TOKEN: token }); });
    after(async () => { await t?.close(); });

    it('is the admin key and no admin.token file is written', async () => {
      assert.equal((await t.call('projects.list', {}, token)).status, 200);
      await assert.rejects(stat(join(t.dataPath, 'admin.token')));
      assert.ok(!t.logs().includes(token));
    });
  });
}
