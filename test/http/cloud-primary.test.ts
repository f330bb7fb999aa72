import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg, makePng } from '../helpers/media-fixtures.ts';
import { startRadosgw } from '../helpers/peers/radosgw.ts';
import { startAzurite } from '../helpers/peers/azurite.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

/** A cloud peer as Stowage's primary storage: its settings, and settings with a wrong secret. */
interface CloudCase {
  name: string;
  settings(): Promise<{ good: Record<string, string>; badSecret: Record<string, string>; secret: string; stop(): Promise<void> }>;
}

const CASES: CloudCase[] = [
  {
    name: 'S3 (radosgw)',
    settings: async () => {
      const rgw = await startRadosgw();
      const base = { STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: rgw.endpoint, STORAGE_ACCESS_KEY: rgw.accessKey };
      return {
        good: { ...base, STORAGE_SECRET_KEY: rgw.secretKey }, badSecret: { ...base, STORAGE_SECRET_KEY: `${rgw.secretKey}x` },
        secret: rgw.secretKey, stop: async () => undefined, // shared per process; the helper stops it at exit
      };
    },
  },
  {
    name: 'Azure Blob (Azurite)',
    settings: async () => {
      const az = await startAzurite();
      const base = { STORAGE_PROVIDER: 'azure', STORAGE_ENDPOINT: az.endpoint, STORAGE_ACCESS_KEY: az.accountName };
      const wrong = Buffer.from(randomBytes(64)).toString('base64');
      return { good: { ...base, STORAGE_SECRET_KEY: az.accountKey }, badSecret: { ...base, STORAGE_SECRET_KEY: wrong }, secret: wrong, stop: () => az.stop() };
    },
  },
];

for (const c of CASES) {
  describe(`Stowage on ${c.name} as primary storage`, () => {
    let t: TestApp;
    let peer: Awaited<ReturnType<CloudCase['settings']>>;
    const prefix = `stw${randomBytes(4).toString('hex')}`;
    before(async () => {
      peer = await c.settings();
      t = await startTestApp(catalogBackend('sqlite').url(), { ...peer.good, STORAGE_BUCKET_PREFIX: prefix, STORAGE_CREATE_BUCKETS: 'true' });
    });
    after(async () => {
      await t?.close();
      await peer?.stop();
    });

    it('uploads, registers, lists and serves images with ranges from the cloud bucket', async () => {
      const jpeg = await makeJpeg(80, 60, { seed: 42 });
      const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([jpeg]) });
      assert.equal(up.status, 200, await up.clone().text());
      assert.deepEqual(await up.json(), [{ hash: sha(jpeg) }]);
      assert.deepEqual(await t.ok('images.internal.hashes.list', [sha(jpeg)]), [sha(jpeg)]);
      const p = await t.ok('projects.add', { name: 'cloud', workspaceId: 1 });
      const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
      const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'c.jpg', hash: sha(jpeg) }] });
      assert.equal(img.width, 80);
      assert.match(img.pathOriginal, new RegExp(`^/${prefix}-public/images/original/`));
      const inStore = await t.app.services.store.head(`${prefix}-public`, img.pathOriginal.slice(`/${prefix}-public/`.length));
      assert.equal(inStore.size, jpeg.length);
      const ranged = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
        method: 'POST', headers: { 'x-api-key': t.adminKey, 'content-type': 'application/json', range: 'bytes=10-19' }, body: JSON.stringify({ id: img.id }),
      });
      assert.equal(ranged.status, 206);
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), jpeg.subarray(10, 20));
      const full = await fetch(t.baseUrl + img.pathOriginal, { headers: { 'x-api-key': t.adminKey } });
      assert.deepEqual(Buffer.from(await full.arrayBuffer()), jpeg);
    });

    it('stores a large upload through a staging key, then copies it to its content address and leaves no staging object', async () => {
      const png = Buffer.concat([await makePng(64, 48, { seed: 7 }), randomBytes(10 * 1024 * 1024)]);
      const junk = randomBytes(9 * 1024 * 1024);
      const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([png, junk]) });
      assert.equal(up.status, 200, await up.clone().text());
      const [stored, refused] = await up.json() as [{ hash: string }, { errors: string }];
      assert.equal(stored.hash, sha(png));
      assert.match(refused.errors, /not a supported image/);
      const p = await t.ok('projects.add', { name: 'big', workspaceId: 1 });
      const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
      const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'big.png', hash: sha(png) }] });
      assert.deepEqual([img.width, img.height, img.mime, Number(img.size)], [64, 48, 'image/png', png.length]);
      const full = await fetch(t.baseUrl + img.pathOriginal, { headers: { 'x-api-key': t.adminKey } });
      assert.equal(sha(Buffer.from(await full.arrayBuffer())), sha(png));
      const staged = await t.app.services.store.list(`${prefix}-private`, { prefix: 'tmp/' });
      assert.deepEqual(staged.objects.map((o) => o.key), []);
    });

    it('refuses to start with a wrong secret, naming the bucket and the setting, never the secret', async () => {
      const config = loadConfig({
        env: { DATA_PATH: t.dataPath, CATALOG_URL: catalogBackend('sqlite').url(), ...peer.badSecret, STORAGE_BUCKET_PREFIX: prefix, STOWAGE_ADMIN_TOKEN: 'x'.repeat(20) },
        envFile: '/nonexistent/.env',
      });
      await assert.rejects(createApp(config, createLogger('silent')), (err: Error) => {
        assert.match(err.message, new RegExp(`bucket ${prefix}-public: write failed`));
        assert.match(err.message, /STORAGE_(ACCESS|SECRET)_KEY/);
        assert.ok(!err.message.includes(peer.secret));
        return true;
      });
    });
  });
}
