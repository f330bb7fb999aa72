/**
 * Warm previews answered from memory before routing (src/http/hot-derived.ts):
 * the same bytes and headers as the routes give, hits counted in the cache
 * statistics, and never served once the cache entry is gone or the key is
 * revoked. Ranges, validators and HEAD still get the routes' answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { until } from '../helpers/until.ts';
import { openTier } from '../../src/cache/cache-tiers.ts';

const HEADERS = ['content-type', 'etag', 'cache-control', 'accept-ranges', 'content-length'] as const;

describe('warm previews from memory', () => {
  let t: TestApp;
  let url: string;
  const get = (key: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(t.baseUrl + url, { method, headers: { 'x-api-key': key, ...headers } });
  const hits = async () => {
    const { caches } = await t.ok('cache.stats', { tier: 'previews' });
    return caches[0].hits as number;
  };

  before(async () => {
    t = await startTestApp(catalogBackend('sqlite').url());
    const jpeg = await makeJpeg(320, 240, { seed: 11 });
    const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: { 'x-api-key': t.adminKey }, body: uploadForm([jpeg]) });
    assert.equal(up.status, 200);
    const p = await t.ok('projects.add', { name: 'hot', workspaceId: 1, type: 'images' });
    const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
    const hash = createHash('sha256').update(jpeg).digest('base64');
    const [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'a.jpg', hash }] });
    url = `/previews/q/ext:jpeg/resize:fit:100:100:0/q:70/plain${img.pathOriginal}`;
  });
  after(async () => { await t?.close(); });

  it('answers repeated requests with the bytes and headers of the first, counting each hit', async () => {
    const first = await get(t.adminKey);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-stowage-cache'), 'miss');
    const body = Buffer.from(await first.arrayBuffer());
    const before = await hits();
    for (let i = 0; i < 3; i++) {
      const again = await get(t.adminKey);
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('x-stowage-cache'), 'hit');
      for (const h of HEADERS) assert.equal(again.headers.get(h), first.headers.get(h), h);
      assert.deepEqual(Buffer.from(await again.arrayBuffer()), body);
    }
    assert.equal(await hits(), before + 3);
  });

  it('leaves ranges, validators and HEAD to the routes', async () => {
    const whole = Buffer.from(await (await get(t.adminKey)).arrayBuffer());
    const part = await get(t.adminKey, { range: 'bytes=10-19' });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), whole.subarray(10, 20));
    const etag = (await get(t.adminKey)).headers.get('etag') ?? '';
    assert.equal((await get(t.adminKey, { 'if-none-match': etag })).status, 304);
    const head = await get(t.adminKey, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(whole.length));
  });

  it('makes the preview again after the cache is cleared, instead of serving the memory copy', async () => {
    assert.equal((await get(t.adminKey)).headers.get('x-stowage-cache'), 'hit');
    await t.ok('cache.clear', { tier: 'previews' });
    const res = await get(t.adminKey);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-stowage-cache'), 'miss');
  });

  it('makes the preview again after `stowage cache clear` from another process, instead of serving the memory copy', async () => {
    await get(t.adminKey);
    assert.equal((await get(t.adminKey)).headers.get('x-stowage-cache'), 'hit');
    // What the CLI does beside a running server: the same index, opened without repair, emptied.
    const cli = await openTier(t.config, 'previews', { repair: false });
    await cli.clear();
    await cli.close();
    // The server looks for changes made by other processes every second.
    await until(async () => (await get(t.adminKey)).headers.get('x-stowage-cache') === 'miss', 'a miss after the clear');
    assert.equal((await get(t.adminKey)).headers.get('x-stowage-cache'), 'hit');
  });

  it('refuses a key once it is revoked, and a wrong key always', async () => {
    const { auth, catalog } = t.app.services;
    const { key, info } = await auth.createKey('viewer', 'user');
    assert.equal((await get(key)).status, 200);
    assert.equal((await get(key)).headers.get('x-stowage-cache'), 'hit');
    await catalog.apiKeys.revoke(info.id);
    auth.clearCache(); // what `stowage token revoke` announces to every instance
    assert.equal((await get(key)).status, 401);
    assert.equal((await get(`${key}x`)).status, 401);
    const anonymous = await fetch(t.baseUrl + url);
    assert.equal(anonymous.status, 401);
  });
});
