import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { startGcsEmulator, writeServiceAccount, type GcsEmulator } from '../helpers/peers/gcs-emulator.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

// The emulator checks no credentials and serves some routes only to clients that
// see STORAGE_EMULATOR_HOST (set for this test process alone); the service-account
// file is still read and validated as in production.
describe('Stowage on Google Cloud Storage (emulator) as primary storage', () => {
  let emu: GcsEmulator;
  let t: TestApp;
  let dir: string;
  let credentials: string;
  const prefix = `stw${randomBytes(4).toString('hex')}`;
  before(async () => {
    emu = await startGcsEmulator();
    process.env['STORAGE_EMULATOR_HOST'] = emu.endpoint;
    dir = await mkdtemp(join(tmpdir(), 'stowage-gcs-'));
    credentials = await writeServiceAccount(join(dir, 'gcs.json'));
    t = await startTestApp(catalogBackend('sqlite').url(), {
      STORAGE_PROVIDER: 'google', STORAGE_ENDPOINT: emu.endpoint, STORAGE_CREDENTIALS_PATH: credentials,
      STORAGE_BUCKET_PREFIX: prefix, STORAGE_CREATE_BUCKETS: 'true',
    });
  });
  after(async () => {
    await t?.close();
    await emu?.stop();
    delete process.env['STORAGE_EMULATOR_HOST'];
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads and serves images with ranges from the bucket', async () => {
    const jpeg = await makeJpeg(50, 40, { seed: 7 });
    const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([jpeg]) });
    assert.equal(up.status, 200, await up.clone().text());
    const p = await t.ok('projects.add', { name: 'gcs', workspaceId: 1 });
    const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
    const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'g.jpg', hash: sha(jpeg) }] });
    assert.match(img.pathOriginal, new RegExp(`^/${prefix}-public/images/original/`));
    const ranged = await fetch(t.baseUrl + img.pathOriginal, { headers: { 'x-api-key': t.adminKey, range: 'bytes=0-15' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), jpeg.subarray(0, 16));
  });

  it('refuses to start with a malformed service-account file, naming it and never quoting it', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"type":"service_account","private_key":"-----BEGIN SECRET-----abc"');
    const config = loadConfig({
      env: { DATA_PATH: dir, CATALOG_URL: catalogBackend('sqlite').url(), STORAGE_PROVIDER: 'google', STORAGE_CREDENTIALS_PATH: bad, STOWAGE_ADMIN_TOKEN: 'y'.repeat(20) },
      envFile: '/nonexistent/.env',
    });
    await assert.rejects(createApp(config, createLogger('silent')), (err: Error) => {
      assert.ok(err.message.includes(bad), err.message);
      assert.ok(!err.message.includes('BEGIN SECRET'));
      return true;
    });
  });
});
