import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';

const backend = catalogBackends()[0];

describe('request size limits', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp((backend as { url: () => string }).url(), { MAX_UPLOAD_SIZE: '2k', MAX_JSON_BODY: '1k' });
  });
  after(async () => { await t?.close(); });

  it('answers 413 JSON for a JSON body over MAX_JSON_BODY', async () => {
    const res = await t.call('projects.add', { name: 'x', description: 'y'.repeat(5000) });
    assert.equal(res.status, 413);
    assert.match((await res.json() as { error: string }).error, /too large/i);
  });

  it('answers 413 for a file over MAX_UPLOAD_SIZE and leaves nothing half-written', async () => {
    const big = await makeJpeg(200, 200, { seed: 3 });
    assert.ok(big.length > 2048);
    const res = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, {
      method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([big]),
    });
    assert.equal(res.status, 413);
    assert.ok((await res.json() as { error: string }).error);
    assert.deepEqual(await readdir(join(t.dataPath, 'tmp', 'uploads')).catch(() => []), []);
    const stored = await readdir(join(t.dataPath, 'storage', 'stowage-public'), { recursive: true });
    assert.deepEqual(stored, []);
    assert.equal((await t.call('instance.version', {})).status, 200);
  });
});
