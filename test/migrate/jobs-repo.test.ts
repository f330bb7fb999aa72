/** The catalog's migration jobs on SQLite and PostgreSQL: ownership, fencing, cancel, resume cursor. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogBackends, withCatalog } from '../helpers/catalogs.ts';

const past = (ms: number) => new Date(Date.now() - ms).toISOString();

for (const backend of catalogBackends()) {
  describe(`migration jobs (${backend.name})`, () => {
    test('create, get, list newest first, find the unfinished one', () => withCatalog(backend, async (catalog) => {
      const jobs = catalog.migrationJobs;
      const a = await jobs.create({ projectId: 1, target: 's3://b/x', options: { keepTree: true }, owner: 'h:1:a' });
      assert.deepEqual([a.status, a.cursor, a.owner, a.cancelRequested, a.options], ['running', 0, 'h:1:a', false, { keepTree: true }]);
      const b = await jobs.create({ projectId: 1, target: 's3://b/y', options: {}, owner: 'h:1:a' });
      assert.deepEqual((await jobs.list(10)).map((j) => j.id), [b.id, a.id]);
      assert.equal((await jobs.findUnfinished(1, 's3://b/x'))?.id, a.id);
      await jobs.save(a.id, 'h:1:a', { status: 'done' });
      assert.equal(await jobs.findUnfinished(1, 's3://b/x'), undefined);
      assert.equal((await jobs.get(a.id))?.owner, null, 'a finished job has no owner');
      assert.equal(await jobs.get(9999), undefined);
    }));

    test('saves progress and the cursor only for the owner', () => withCatalog(backend, async (catalog) => {
      const jobs = catalog.migrationJobs;
      const j = await jobs.create({ projectId: 2, target: 's3://b/x', options: {}, owner: 'me' });
      const saved = await jobs.save(j.id, 'me', { cursor: 1000, progress: { scanned: 1000 } });
      assert.deepEqual([saved?.cursor, saved?.progress], [1000, { scanned: 1000 }]);
      assert.equal(await jobs.save(j.id, 'someone-else', { cursor: 5 }), undefined);
      assert.equal((await jobs.get(j.id))?.cursor, 1000);
    }));

    test('a live owner keeps its job; a stale, dead or stopped one can be taken over; a done one never', () => withCatalog(backend, async (catalog) => {
      const jobs = catalog.migrationJobs;
      const j = await jobs.create({ projectId: 3, target: 's3://b/x', options: {}, owner: 'first' });
      assert.equal(await jobs.claim(j.id, 'second', past(60_000)), undefined, 'fresh heartbeat');
      const dead = await jobs.claim(j.id, 'second', past(60_000), 'first');
      assert.equal(dead?.owner, 'second');
      assert.equal(await jobs.save(j.id, 'first', { cursor: 7 }), undefined, 'the old owner is fenced off');
      const stale = await jobs.claim(j.id, 'third', new Date(Date.now() + 1000).toISOString());
      assert.equal(stale?.owner, 'third');
      await jobs.save(j.id, 'third', { status: 'cancelled' });
      assert.equal((await jobs.claim(j.id, 'fourth', past(60_000)))?.status, 'running');
      await jobs.save(j.id, 'fourth', { status: 'done' });
      assert.equal(await jobs.claim(j.id, 'fifth', new Date(Date.now() + 1000).toISOString()), undefined);
    }));

    test('cancel: asked of a running owner, or marked when nobody runs it', () => withCatalog(backend, async (catalog) => {
      const jobs = catalog.migrationJobs;
      const j = await jobs.create({ projectId: 4, target: 's3://b/x', options: {}, owner: 'runner' });
      assert.equal((await jobs.requestCancel(j.id))?.cancelRequested, true);
      assert.equal((await jobs.save(j.id, 'runner', {}))?.cancelRequested, true, 'the owner sees it at its next save');
      assert.equal(await jobs.markCancelled(j.id, 'not-the-owner'), undefined);
      const marked = await jobs.markCancelled(j.id, 'runner');
      assert.deepEqual([marked?.status, marked?.owner, marked?.cancelRequested], ['cancelled', null, false]);
      assert.ok(marked?.finishedAt !== null);
      const again = await jobs.claim(j.id, 'next', past(60_000));
      assert.deepEqual([again?.status, again?.cancelRequested, again?.finishedAt], ['running', false, null]);
    }));
  });
}
