/**
 * The job runner on SQLite and PostgreSQL, with a job kind of the test's own
 * (steps with a checkpoint each): of several runners racing for one
 * abandoned job exactly one takes it; a job whose owner went silent is taken
 * over after the stale time and resumed from its checkpoint; a runner that
 * closes releases its jobs and another takes them over at once (told by the
 * change feed); a job cancelled while abandoned is not run again.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCatalog } from '../../src/catalog/create-catalog.ts';
import { localChangeFeed, openChangeFeed, type ChangeFeed } from '../../src/catalog/change-feed.ts';
import type { Catalog, MigrationJob } from '../../src/catalog/types.ts';
import { LinkRegistry } from '../../src/links/registry.ts';
import { MigrationAborted } from '../../src/migrate/backoff.ts';
import { JobRunner } from '../../src/migrate/job-runner.ts';
import type { JobLauncher, JobTiming } from '../../src/migrate/job-types.ts';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { catalogBackends, dropCatalog, withCatalog } from '../helpers/catalogs.ts';
import { until } from '../helpers/until.ts';

/** A job kind of steps: each step checkpoints its number; stops after `limit.value` steps; no step while `paused`. */
class Steps {
  readonly starts: Array<{ runner: string; from: number }> = [];
  readonly limit = { value: Number.POSITIVE_INFINITY };
  paused = false;
  launcher(runner: string): JobLauncher {
    return async ({ job, signal, checkpoint }) => {
      this.starts.push({ runner, from: job.cursor });
      let at = job.cursor;
      const done = (async () => {
        while (at < this.limit.value) {
          await new Promise((r) => setTimeout(r, 5));
          if (signal.aborted) throw new MigrationAborted('cancelled');
          if (this.paused) continue;
          at += 1;
          await checkpoint(at, { lines: at });
        }
        return { lines: at };
      })();
      return { progress: () => ({ lines: at }), snapshot: () => ({ phase: 'x', done: at, total: undefined, bytes: 0, bytesTotal: undefined, counts: {} }), beat: () => ({}), done };
    };
  }
}

interface Side {
  catalog: Catalog;
  changes: ChangeFeed;
  runner: JobRunner;
}

for (const backend of catalogBackends()) {
  describe(`job runner (${backend.name})`, () => {
    /** `n` runners, each on its own catalog connection (and change feed on PostgreSQL). */
    async function runners(url: string, n: number, steps: Steps, timing: JobTiming, shared = localChangeFeed()): Promise<Side[]> {
      const sides: Side[] = [];
      for (let i = 0; i < n; i++) {
        const catalog = await createCatalog({ url });
        const changes = backend.name === 'postgres' ? await openChangeFeed(url) : shared;
        const runner = new JobRunner({
          catalog, changes, timing, items: undefined as never, links: new LinkRegistry(), source: undefined as never,
          storage: { publicBucket: 'p', privateBucket: 'q', bucketPrefix: 'x' },
          launchers: { 'links-import': () => steps.launcher(`r${i}`) },
        });
        sides.push({ catalog, changes, runner });
      }
      return sides;
    }
    async function closeAll(sides: Side[], url: string): Promise<void> {
      for (const s of sides) {
        await s.runner.close();
        await s.changes.close();
        await s.catalog.close();
      }
      await dropCatalog(url);
    }
    const newJob = (c: Catalog, owner: string): Promise<MigrationJob> =>
      c.migrationJobs.create({ kind: 'links-import', projectId: 1, target: 'list', options: {}, owner });

    test('takeOver: of concurrent callers exactly one wins; a live job is refused; release is fenced', () => withCatalog(backend, async (catalog) => {
      const jobs = catalog.migrationJobs;
      const job = await jobs.create({ kind: 'storage', projectId: 0, target: 'conn', options: {}, owner: 'first' });
      const staleBefore = new Date(Date.now() - 60_000).toISOString();
      assert.equal(await jobs.takeOver(job.id, 'x', staleBefore), undefined, 'a fresh heartbeat');
      await jobs.release(job.id, 'first', {});
      const won = await Promise.all(Array.from({ length: 8 }, (_, i) => jobs.takeOver(job.id, `racer-${i}`, staleBefore)));
      const winners = won.filter((j) => j !== undefined);
      assert.equal(winners.length, 1, JSON.stringify(won.map((j) => j?.owner)));
      assert.equal((await jobs.get(job.id))?.owner, winners[0]?.owner);
      assert.equal(await jobs.release(job.id, 'not-the-owner', {}), undefined);
      const released = await jobs.release(job.id, winners[0]?.owner ?? '', { cursor: 5, progress: { n: 5 } });
      assert.deepEqual([released?.status, released?.owner, released?.heartbeatAt, released?.cursor, released?.kind], ['running', null, null, 5, 'storage']);
      assert.deepEqual((await jobs.findAbandoned(new Date(Date.now() - 60_000).toISOString(), 10)).map((j) => j.id), [job.id]);
      assert.equal((await jobs.findUnfinished(0, 'conn', 'storage'))?.id, job.id);
      assert.equal(await jobs.findUnfinished(0, 'conn'), undefined, 'another kind');
    }));

    test('of runners racing for one abandoned job, exactly one takes it', async () => {
      const url = backend.url();
      const steps = new Steps();
      const sides = await runners(url, 4, steps, { heartbeatMs: 3_600_000, staleMs: 7_200_000 });
      try {
        const first = sides[0] as Side;
        for (let round = 0; round < 5; round++) {
          const job = await newJob(first.catalog, 'gone');
          await first.catalog.migrationJobs.release(job.id, 'gone', {});
          const taken = await Promise.all(sides.map((s) => s.runner.scan()));
          assert.equal(taken.reduce((a, b) => a + b, 0), 1, `round ${round}: ${JSON.stringify(taken)}`);
          const row = await first.catalog.migrationJobs.get(job.id);
          assert.equal(sides.filter((s) => s.runner.jobs.owner === row?.owner).length, 1);
          assert.equal(steps.starts.length, round + 1, 'run once');
          assert.equal(await Promise.all(sides.map((s) => s.runner.scan())).then((t) => t.reduce((a, b) => a + b, 0)), 0, 'a live job is left alone');
          await sides.find((s) => s.runner.jobs.runsHere(job.id))?.runner.jobs.cancel(job.id);
        }
      } finally {
        await closeAll(sides, url);
      }
    });

    test('a job whose owner went silent is taken over after the stale time, from its checkpoint', async () => {
      const url = backend.url();
      const steps = new Steps();
      const [side] = await runners(url, 1, steps, { heartbeatMs: 50, staleMs: 300 });
      const { catalog, runner } = side as Side;
      try {
        const job = await newJob(catalog, 'other-host:1:dead');
        await catalog.migrationJobs.save(job.id, 'other-host:1:dead', { cursor: 7, progress: { lines: 7 } });
        steps.limit.value = 10;
        runner.start();
        await until(() => steps.starts.length > 0, 'the take-over');
        assert.deepEqual(steps.starts[0], { runner: 'r0', from: 7 });
        const done = await until(async () => {
          const j = await catalog.migrationJobs.get(job.id);
          return j?.status === 'done' ? j : undefined;
        }, 'the job done');
        assert.deepEqual([done.cursor, done.progress, done.owner], [10, { lines: 10 }, null]);
      } finally {
        await closeAll([side as Side], url);
      }
    });

    test('a closing runner releases its job with its checkpoint; another takes it over at once', async () => {
      const url = backend.url();
      const steps = new Steps();
      // Periods of an hour: only the release (told by the change feed) can explain a take-over.
      const sides = await runners(url, 2, steps, { heartbeatMs: 3_600_000, staleMs: 7_200_000 });
      const [a, b] = sides as [Side, Side];
      try {
        const job = await newJob(a.catalog, 'gone');
        await a.catalog.migrationJobs.release(job.id, 'gone', {});
        assert.equal(await a.runner.scan(), 1);
        b.runner.start();
        const cursor = await until(async () => {
          const j = await a.catalog.migrationJobs.get(job.id);
          return (j?.cursor ?? 0) >= 3 ? j?.cursor : undefined;
        }, 'a few checkpoints');
        // Held still from here: the one taking over starts exactly at the released checkpoint.
        steps.paused = true;
        await a.runner.close();
        const released = await a.catalog.migrationJobs.get(job.id);
        assert.equal(released?.status, 'running');
        assert.ok((released?.cursor ?? 0) >= cursor);
        await until(() => steps.starts.length === 2, 'the take-over by the other runner');
        assert.deepEqual(steps.starts[1], { runner: 'r1', from: released?.cursor });
        steps.limit.value = (released?.cursor ?? 0) + 3;
        steps.paused = false;
        const view = await until(async () => {
          const v = await b.runner.jobs.status(job.id);
          return v.status === 'done' ? v : undefined;
        }, 'the job done');
        assert.equal(view.cursor, (released?.cursor ?? 0) + 3);
        assert.equal(view.kind, 'links-import');
      } finally {
        await closeAll(sides, url);
      }
    });

    test('an abandoned job with a cancel request is marked cancelled, not run', async () => {
      const url = backend.url();
      const steps = new Steps();
      const [side] = await runners(url, 1, steps, { heartbeatMs: 3_600_000, staleMs: 7_200_000 });
      const { catalog, runner } = side as Side;
      try {
        const job = await newJob(catalog, 'gone');
        await catalog.migrationJobs.requestCancel(job.id);
        await catalog.migrationJobs.release(job.id, 'gone', {});
        assert.equal(await runner.scan(), 0);
        assert.equal((await catalog.migrationJobs.get(job.id))?.status, 'cancelled');
        assert.equal(steps.starts.length, 0);
      } finally {
        await closeAll([side as Side], url);
      }
    });
  });
}

describe('job settings', () => {
  const load = (env: Record<string, string>) => loadConfig({ env, envFile: '/nonexistent/.env' });
  test('default to a 10 s heartbeat and 1 min stale time; take durations', () => {
    assert.deepEqual(load({}).jobs, { heartbeatMs: 10_000, staleMs: 60_000 });
    assert.deepEqual(load({ JOBS_HEARTBEAT_INTERVAL: '250ms', JOBS_STALE_AFTER: '2s' }).jobs, { heartbeatMs: 250, staleMs: 2000 });
  });
  test('refuse a stale time within the heartbeat period, naming the setting', () => {
    assert.throws(() => load({ JOBS_HEARTBEAT_INTERVAL: '1m', JOBS_STALE_AFTER: '30s' }), (err: Error) => err instanceof ConfigError && /JOBS_STALE_AFTER/.test(err.message));
    assert.throws(() => load({ JOBS_HEARTBEAT_INTERVAL: 'soon' }), (err: Error) => err instanceof ConfigError && /JOBS_HEARTBEAT_INTERVAL/.test(err.message));
  });
});
