/**
 * The API methods the web page added, over HTTP on both catalogs:
 * `remote-storage.connections.test` (saved and unsaved settings, per-bucket
 * results, no secrets, admin only) and `migrations.plan` (project and
 * storage dry runs that write nothing).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makePng } from '../helpers/media-fixtures.ts';
import { addFolderConnection, storeImages, waitForJob } from './web-fixtures.ts';

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

for (const backend of catalogBackends()) {
  describe(`web page API methods (${backend.name})`, () => {
    let t: TestApp;
    let userKey: string;
    let writable: string;

    before(async () => {
      t = await startTestApp(backend.url());
      userKey = (await t.app.services.auth.createKey('web-user', 'user')).key;
      writable = await addFolderConnection(t, 'host-rw', 'host-rw', true);
      await addFolderConnection(t, 'host-ro', 'host-ro', false);
    });
    after(async () => { await t?.close(); });

    it('tests a saved connection bucket by bucket, operation by operation', async () => {
      const rw = await t.ok('remote-storage.connections.test', { name: 'host-rw' });
      assert.equal(rw.ok, true);
      assert.deepEqual(rw.operations, ['write', 'read', 'list', 'multipart', 'delete']);
      assert.deepEqual(rw.buckets.map((b: any) => [b.bucket, b.results.write.status, b.results.multipart.status]), [['host-rw', 'ok', 'skipped']]);
      assert.deepEqual(await filesIn(writable), [], 'the probe object is deleted');
      const ro = await t.ok('remote-storage.connections.test', { name: 'host-ro' });
      assert.equal(ro.ok, false);
      assert.equal(ro.buckets[0].results.write.status, 'failed');
      assert.equal(typeof ro.buckets[0].results.write.message, 'string');
      assert.equal(ro.buckets[0].results.list.status, 'ok');
    });

    it('tests unsaved settings without saving them; refuses bad ones naming the field', async () => {
      const before = (await t.ok('remote-storage.connections.list')).length;
      const r = await t.ok('remote-storage.connections.test', { settings: { provider: 'fs', path: writable, buckets: ['draft-id'], writable: true } });
      assert.deepEqual([r.saved, r.ok, r.name], [false, true, null]);
      assert.equal((await t.ok('remote-storage.connections.list')).length, before);
      const missing = await t.call('remote-storage.connections.test', { settings: { provider: 'minio', buckets: ['b'] } });
      assert.equal(missing.status, 400);
      const body = await missing.json() as any;
      assert.equal(body.details.field, 'access_key');
      const noFolder = await t.call('remote-storage.connections.test', { settings: { provider: 'fs', path: '/definitely/not/here', buckets: ['abc'] } });
      assert.equal(noFolder.status, 400);
      assert.equal((await noFolder.json() as any).details.field, 'path');
    });

    it('never shows a secret, 404s an unknown name, refuses a user key', async () => {
      const secret = 'wrong-secret-key-0123456789-abcdef';
      const res = await t.call('remote-storage.connections.test', { settings: { provider: 'minio', endpoint: 'http://127.0.0.1:9', access_key: 'AKIAEXAMPLEKEY0001', secret_key: secret, buckets: ['b1'] } });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal(JSON.parse(text).ok, false);
      assert.ok(!text.includes(secret) && !text.includes('AKIAEXAMPLEKEY0001'), text);
      assert.ok(!t.logs().includes(secret));
      assert.equal((await t.call('remote-storage.connections.test', { name: 'nope' })).status, 404);
      assert.equal((await t.call('remote-storage.connections.test', { name: 'host-rw' }, userKey)).status, 403);
      assert.equal((await t.call('migrations.plan', { kind: 'storage', to: 'host-rw' }, userKey)).status, 403);
    });

    it('plans a project migration without writing, then the run matches the plan', async () => {
      const p = await t.ok('projects.add', { name: 'plan-me', workspaceId: 1, type: 'images' });
      const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
      const pngs = await Promise.all([1, 2, 3].map((i) => makePng(10 + i, 8 + i, { seed: i })));
      await storeImages(t, ds.id, pngs);
      const plan = await t.ok('migrations.plan', { projectId: p.id, to: 'fs://host-rw/moved' });
      const bytes = pngs.reduce((n, b) => n + b.length, 0);
      assert.deepEqual([plan.items, plan.alreadyLinked, plan.toMigrate, plan.bytes, plan.alreadyAtTarget, plan.lookedUp, plan.connection],
        [3, 0, 3, bytes, 0, 3, 'host-rw']);
      assert.deepEqual(await filesIn(writable), [], 'a dry run writes nothing');
      const job = await waitForJob(t, (await t.ok('migrations.start', { projectId: p.id, to: 'fs://host-rw/moved' })).id);
      assert.equal(job.status, 'done', job.message);
      const again = await t.ok('migrations.plan', { projectId: p.id, to: 'fs://host-rw/moved' });
      assert.deepEqual([again.alreadyLinked, again.toMigrate], [3, 0]);
    });

    it('refuses bad project plans with the start\'s messages', async () => {
      const p = await t.ok('projects.add', { name: 'plan-bad', workspaceId: 1, type: 'images' });
      const cases: Array<[object, number, RegExp]> = [
        [{ projectId: 999_999, to: 'fs://host-rw/x' }, 404, /project 999999 not found/],
        [{ projectId: p.id, to: 's3://not-allowed/x' }, 400, /no remote connection allows/],
        [{ projectId: p.id, to: 'fs://host-rw/../x' }, 400, /"\." or "\.\."/],
        [{ kind: 'storage', to: 'nope' }, 400, /no serving connection named nope/],
        [{ kind: 'storage' }, 400, /to/],
      ];
      for (const [body, status, message] of cases) {
        const res = await t.call('migrations.plan', body);
        const text = await res.text();
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${text}`);
        assert.match(JSON.parse(text).error, message);
      }
    });

    it('plans a storage migration: objects and bytes of both buckets, nothing written', async () => {
      const plan = await t.ok('migrations.plan', { kind: 'storage', to: 'host-rw', bucketPrefix: 'copy' });
      assert.equal(plan.dryRun, true);
      assert.deepEqual(plan.buckets.map((b: any) => b.to), ['copy-public', 'copy-private']);
      assert.ok(plan.objects >= 3, `${plan.objects} objects`);
      assert.equal(plan.copied, plan.objects - plan.present);
      assert.ok(plan.bytes > 0);
    });
  });
}
