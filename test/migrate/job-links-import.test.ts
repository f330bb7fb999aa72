/**
 * Link-list imports as background jobs (`images.links.import` with
 * `background=true`), on both catalogs: the reply is the job, at once; the
 * job imports every line with the same report as a synchronous import; an
 * instance stopped mid-import releases the job with its checkpoint line and
 * the next instance resumes after that line (nothing imported twice).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { catalogBackends } from '../helpers/catalogs.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { ADMIN_TOKEN, startInstance, type Instance } from './harness.ts';
import { until } from '../helpers/until.ts';

const LINES = 2100;
const name = (i: number) => `f-${String(i).padStart(4, '0')}.jpg`;

/** Posts a links file for a background import; returns the reply. */
async function importInBackground(t: Instance, datasetId: number, text: string): Promise<Record<string, any>> {
  const form = new FormData();
  form.append('datasetId', String(datasetId));
  form.append('background', 'true');
  form.append('file', new Blob([text], { type: 'text/plain' }), 'links.txt');
  const res = await fetch(`${t.baseUrl}/public/api/v3/images.links.import`, { method: 'POST', headers: { 'x-api-key': ADMIN_TOKEN }, body: form });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return JSON.parse(body);
}

const status = (t: Instance, id: number) => t.ok('images.links.import.status', { id });

/** `store` whose reads of the files numbered above `from` wait for `release()`. */
function gated(store: ObjectStore, from: number): { store: ObjectStore; release: () => void } {
  let release = () => undefined as void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const held = (key: string) => Number(/f-(\d+)/.exec(key)?.[1] ?? 0) > from;
  const wrapped = new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (prop !== 'get' && prop !== 'head') return v.bind(target);
      return async (bucket: string, key: string, ...rest: unknown[]) => {
        if (held(key)) await gate;
        return v.call(target, bucket, key, ...rest);
      };
    },
  });
  return { store: wrapped, release: () => release() };
}

for (const backend of catalogBackends()) {
  describe(`background link imports (${backend.name})`, () => {
    let dataPath: string;
    let env: Record<string, string>;
    let t: Instance;
    let projectId: number;
    let links: string;

    before(async () => {
      dataPath = await mkdtemp(join(tmpdir(), 'stowage-links-job-'));
      const folder = join(dataPath, 'lists-src');
      await mkdir(folder);
      const jpeg = await makeJpeg(24, 16, { seed: 5 });
      for (let i = 1; i <= LINES; i++) await writeFile(join(folder, name(i)), jpeg);
      env = { DATA_PATH: dataPath, CATALOG_URL: backend.url(), JOBS_HEARTBEAT_INTERVAL: '200ms', JOBS_STALE_AFTER: '1s' };
      t = await startInstance(env);
      await t.ok('remote-storage.connections.add', { name: 'lists', provider: 'fs', path: folder, buckets: ['cvdata'] });
      projectId = (await t.ok('projects.add', { name: 'linked', workspaceId: 1 })).id;
      links = Array.from({ length: LINES }, (_, i) => `fs://cvdata/${name(i + 1)}`).join('\n');
    });
    after(async () => {
      await t?.close();
      await rm(dataPath, { recursive: true, force: true });
    });

    it('replies with the job at once; the job imports every line and reports bad ones', async () => {
      const datasetId = (await t.ok('datasets.add', { projectId, name: 'all' })).id;
      const job = await importInBackground(t, datasetId, `# a list\n${links}\nnot a link\n\n`);
      assert.deepEqual([job.kind, job.projectId], ['links-import', datasetId]);
      assert.ok(['running', 'done'].includes(job.status), job.status);
      const done = await until(async () => {
        const j = await status(t, job.id);
        return j.status === 'running' ? undefined : j;
      }, 'the import done');
      assert.equal(done.status, 'done', done.message);
      assert.deepEqual([done.progress.imported, done.progress.skipped, done.progress.failed], [LINES, 0, 1]);
      assert.equal(done.progress.errors[0].line, LINES + 2);
      assert.equal(done.counters.done, LINES + 3);
      assert.equal(done.counters.bytesTotal, done.counters.bytes);
      assert.equal((await t.ok('images.list', { datasetId })).total, LINES);
      const { privateBucket } = t.app.services.config.storage;
      assert.equal((await t.app.services.store.list(privateBucket, { prefix: 'jobs/' })).objects.length, 0, 'the stored list is removed');
      assert.equal((await t.call('videos.links.import.status', { id: job.id })).status, 404);
      assert.equal((await t.call('images.links.import.status', { id: 999_999 })).status, 404);
    });

    it('an instance stopped mid-import releases it; the next one resumes after the checkpoint line', async () => {
      const datasetId = (await t.ok('datasets.add', { projectId, name: 'resumed' })).id;
      const services = t.app.services;
      const real = services.links.list().find((c) => c.name === 'lists');
      assert.ok(real !== undefined);
      // Lines after the first batch of 1,000 wait: the job is mid-import, deterministically.
      const gate = gated(real.store, 1000);
      services.links.set({ ...real, store: gate.store });
      const job = await importInBackground(t, datasetId, links);
      await until(async () => ((await status(t, job.id)).cursor === 1000 ? true : undefined), 'the first checkpoint');
      const closing = t.close();
      gate.release();
      await closing;
      t = await startInstance(env);
      const done = await until(async () => {
        const j = await status(t, job.id);
        return j.status === 'done' || j.status === 'failed' || j.status === 'cancelled' ? j : undefined;
      }, 'the import taken over and done');
      assert.equal(done.status, 'done', done.message);
      // Resumed after its checkpoint: no line was imported (or skipped as imported) twice.
      assert.deepEqual([done.progress.imported, done.progress.skipped, done.progress.failed, done.cursor], [LINES, 0, 0, 2000]);
      assert.equal((await t.ok('images.list', { datasetId })).total, LINES);
    });
  });
}
