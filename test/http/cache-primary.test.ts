/**
 * The storage cache in front of a cloud primary store (S3 on Ceph radosgw):
 * originals are fetched once, served from the cache afterwards, and still
 * after a restart; a local-disk primary is never cached twice. On both catalogs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.ts';
import type { CacheStats } from '../../src/cache/disk-cache.ts';
import { loadConfig, type Config } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { startTestApp, uploadForm } from '../helpers/app.ts';
import { catalogBackends, dropCatalog } from '../helpers/catalogs.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';

const TOKEN = `admin-${randomBytes(12).toString('hex')}`;

/** A running app on a loopback port. */
async function serve(config: Config): Promise<{ app: App; base: string }> {
  const app = await createApp(config, createLogger('silent'));
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { app, base: `http://127.0.0.1:${addr.port}` };
}

/** Uploads `jpeg` and returns its storage path. */
async function upload(base: string, jpeg: Buffer, bucket: string): Promise<string> {
  const up = await fetch(`${base}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': TOKEN }, body: uploadForm([jpeg]) });
  assert.equal(up.status, 200, await up.clone().text());
  const h = createHash('sha256').update(jpeg).digest('hex');
  return `/${bucket}/images/original/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}.jpg`;
}

async function fetchBytes(url: string): Promise<Buffer> {
  const res = await fetch(url, { headers: { 'x-api-key': TOKEN } });
  assert.equal(res.status, 200, url);
  return Buffer.from(await res.arrayBuffer());
}

let rgw: Radosgw | undefined;
before(async () => { rgw = await startRadosgw(); });
after(async () => { await rgw?.stop(); });

for (const backend of catalogBackends()) {
  describe(`storage cache in front of an S3 primary (${backend.name})`, () => {
    let dataPath: string;
    let catalogUrl: string;
    let config: Config;
    const prefix = `cp${randomBytes(4).toString('hex')}`;
    before(async () => {
      const peer = await startRadosgw();
      dataPath = await mkdtemp(join(tmpdir(), 'stowage-cache-primary-'));
      catalogUrl = backend.url();
      config = loadConfig({
        env: {
          DATA_PATH: dataPath, CATALOG_URL: catalogUrl, STOWAGE_ADMIN_TOKEN: TOKEN, STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: peer.endpoint,
          STORAGE_ACCESS_KEY: peer.accessKey, STORAGE_SECRET_KEY: peer.secretKey, STORAGE_BUCKET_PREFIX: prefix, STORAGE_CREATE_BUCKETS: 'true',
          // The memory cache would answer the repeated reads before the disk cache sees them.
          CACHE_MEMORY_SIZE: '0',
        },
        envFile: join(dataPath, 'no.env'),
      });
    });
    after(async () => {
      await dropCatalog(catalogUrl);
      await rm(dataPath, { recursive: true, force: true });
    });

    it('fetches an original once and serves it from the cache, also after a restart', async () => {
      const jpeg = await makeJpeg(200, 150, { seed: 5 });
      const first = await serve(config);
      let stats: () => CacheStats = () => first.app.services.caches.storage.stats();
      const path = await upload(first.base, jpeg, `${prefix}-public`);
      const start = stats();
      assert.ok((await fetchBytes(first.base + path)).equals(jpeg));
      await first.app.services.caches.storage.drain();
      assert.ok((await fetchBytes(first.base + path)).equals(jpeg));
      const warm = stats();
      assert.deepEqual([warm.bytesFetched - start.bytesFetched, warm.hits - start.hits], [jpeg.length, 1]);
      await first.app.close();
      const second = await serve(config);
      try {
        stats = () => second.app.services.caches.storage.stats();
        assert.ok((await fetchBytes(second.base + path)).equals(jpeg));
        const restarted = stats();
        assert.deepEqual([restarted.bytesFetched, restarted.hits - warm.hits], [warm.bytesFetched, 1]);
      } finally {
        await second.app.close();
      }
    });
  });

  describe(`local-disk primary (${backend.name})`, () => {
    it('is not cached twice', async () => {
      const t = await startTestApp(backend.url(), { STOWAGE_ADMIN_TOKEN: TOKEN, CACHE_MEMORY_SIZE: '0' });
      try {
        const jpeg = await makeJpeg(64, 48, { seed: 9 });
        const path = await upload(t.baseUrl, jpeg, t.config.storage.publicBucket);
        assert.ok((await fetchBytes(t.baseUrl + path)).equals(jpeg));
        assert.ok((await fetchBytes(t.baseUrl + path)).equals(jpeg));
        const s = t.app.services.caches.storage.stats();
        assert.deepEqual([s.entries, s.bytesFetched, s.hits], [0, 0, 0]);
      } finally {
        await t.close();
      }
    });
  });
}
