/**
 * Shared bits of the web page's tests: images stored in Stowage (upload +
 * `images.bulk.add` by hash), a writable host-folder connection, and
 * polling a migration job until it stops.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { uploadForm, type TestApp } from '../helpers/app.ts';

/** Stores `files` and adds them to the dataset as `name-<i>.png`; returns the image infos. */
export async function storeImages(t: TestApp, datasetId: number, files: Buffer[], name = 'img'): Promise<Array<Record<string, any>>> {
  const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm(files) });
  if (!up.ok) throw new Error(`images.bulk.upload → ${up.status}: ${await up.text()}`);
  const images = files.map((b, i) => ({ title: `${name}-${i}.png`, hash: createHash('sha256').update(b).digest('base64'), meta: {} }));
  return t.ok('images.bulk.add', { datasetId, images });
}

/** Adds an `fs` connection through the API over a new folder below DATA_PATH. */
export async function addFolderConnection(t: TestApp, name: string, storageId: string, writable: boolean): Promise<string> {
  const folder = join(t.dataPath, `host-${name}`);
  await mkdir(folder, { recursive: true });
  await t.ok('remote-storage.connections.add', { name, provider: 'fs', path: folder, buckets: [storageId], writable });
  return folder;
}

/** Polls `migrations.status` until the job is no longer running (the test runner's timeout is the hang guard). */
export async function waitForJob(t: TestApp, id: number): Promise<Record<string, any>> {
  for (;;) {
    const job = await t.ok('migrations.status', { id });
    if (job.status !== 'running') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}
