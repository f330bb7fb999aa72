/**
 * Previews over HTTP: the URLs the SDK builds from `fullStorageUrl`, every
 * option, local and linked originals, caching (ETag, 304, HEAD, the previews
 * cache), authentication (API key, signed URLs) and the refusals.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { linkBucket } from '../helpers/link-bucket.ts';
import { makeJpeg, makePng } from '../helpers/media-fixtures.ts';
import { makeBmpFile, makeTiffPages } from '../media/convert-fixtures.ts';
import { createFsStore } from '../../src/storage/providers/fs/index.ts';

/** `_utils.py:resize_image_url`: keeps scheme://host and inserts the preview prefix before the path. */
function resizeImageUrl(fullStorageUrl: string, ext: string, method: string, width: number | string, height: number | string, quality = 70): string {
  const u = new URL(fullStorageUrl);
  const server = `${u.protocol}//${u.host}`;
  return fullStorageUrl.replace(server, `${server}/previews/q/ext:${ext}/resize:${method}:${width}:${height}:0/q:${quality}/plain`);
}

describe('previews', () => {
  let t: TestApp;
  let jpeg: Buffer;
  let img: { id: number; pathOriginal: string; fullStorageUrl: string };
  const key = { 'x-api-key': '' };
  const get = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(url.startsWith('http') ? url : t.baseUrl + url, { method, headers: { ...key, ...headers } });
  const preview = (opts: string, path: string) => get(`/previews/q/${opts}/plain${path}`);
  const size = async (res: Response) => {
    assert.equal(res.status, 200, await res.clone().text());
    const m = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    return [m.width, m.height, m.format];
  };

  before(async () => {
    t = await startTestApp(catalogBackend('sqlite').url());
    key['x-api-key'] = t.adminKey;
    jpeg = await makeJpeg(400, 300, { seed: 5 });
    const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: key, body: uploadForm([jpeg]) });
    assert.equal(up.status, 200);
    const p = await t.ok('projects.add', { name: 'previews', workspaceId: 1, type: 'images' });
    const ds = await t.ok('datasets.add', { projectId: p.id, name: 'ds' });
    const hash = createHash('sha256').update(jpeg).digest('base64');
    [img] = await t.ok('images.bulk.add', { datasetId: ds.id, images: [{ title: 'a.jpg', hash }] });
    const pages = [[255, 0, 0], [0, 0, 255]].map((rgb) => ({ width: 80, height: 40, channels: 3 as const, bits: 8 as const, sample: (_x: number, _y: number, c: number) => rgb[c] ?? 0 }));
    await linkBucket(t, 'linked', {
      'cars/red car.jpg': await makeJpeg(300, 200, { seed: 6 }),
      'scan.tif': makeTiffPages(pages),
      'depth.png': await sharp(new Uint16Array(64 * 32).map((_v, i) => 1000 + (i % 64) * 40), { raw: { width: 64, height: 32, channels: 1 } }).toColourspace('grey16').png().toBuffer(),
      'mask.bmp': makeBmpFile({ width: 30, height: 20, bits: 24, pixel: () => [0, 200, 0, 255] }),
      'alpha.png': await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer(),
      'corrupt.jpg': Buffer.concat([jpeg.subarray(0, 400), Buffer.alloc(4000, 0x55)]),
      'notes.txt': Buffer.from('not an image'),
    });
  });
  after(async () => { await t?.close(); });

  it('serves the preview URL the SDK derives from fullStorageUrl, cached, with ETag, 304 and HEAD', async () => {
    const url = resizeImageUrl(img.fullStorageUrl, 'jpeg', 'fill', 300, 0);
    const first = await get(url);
    assert.equal(first.headers.get('x-stowage-cache'), 'miss');
    assert.equal(first.headers.get('content-type'), 'image/jpeg');
    assert.match(first.headers.get('cache-control') ?? '', /^private, .*immutable/);
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^"[0-9a-f]{40}"$/);
    assert.deepEqual(await size(first), [300, 225, 'jpeg']);
    const second = await get(url);
    assert.equal(second.headers.get('x-stowage-cache'), 'hit');
    assert.equal(second.headers.get('etag'), etag);
    await second.arrayBuffer();
    const revalidated = await get(url, { 'if-none-match': etag });
    assert.equal(revalidated.status, 304);
    const head = await get(url, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get('content-length')) > 0);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const part = await get(url, { range: 'bytes=0-9' });
    assert.equal(part.status, 206);
    assert.equal((await part.arrayBuffer()).byteLength, 10);
    assert.equal(t.app.services.caches.previews.stats().entries, 1);
    await t.app.services.caches.previews.clear();
    const remade = await get(url);
    assert.equal(remade.headers.get('x-stowage-cache'), 'miss', 'a cleared cache is not served from memory');
    assert.equal(remade.headers.get('etag'), etag, 'the same preview again');
    await remade.arrayBuffer();
  });

  it('compresses only with the ImageInfo.preview_url default (auto 0x0)', async () => {
    const res = await get(resizeImageUrl(img.fullStorageUrl, 'jpeg', 'auto', 0, 0));
    assert.deepEqual(await size(res), [400, 300, 'jpeg']);
  });

  it('honours every resize type, None sides, enlarge, formats and quality', async () => {
    const p = img.pathOriginal;
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:100:100:0/q:70', p)), [100, 75, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:None:60:0/q:70', p)), [80, 60, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fill:100:100:0/q:70', p)), [100, 100, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fill-down:800:800:0/q:70', p)), [300, 300, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:jpeg/resize:force:50:100:0/q:70', p)), [50, 100, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:jpeg/resize:auto:100:100:0/q:70', p)), [100, 100, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:jpeg/resize:auto:100:200:0/q:70', p)), [100, 75, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:800:800:0/q:70', p)), [400, 300, 'jpeg'], 'no enlarging by default');
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:800:800:1/q:70', p)), [800, 600, 'jpeg']);
    assert.deepEqual(await size(await preview('ext:png/resize:fit:40:0:0/q:70', p)), [40, 30, 'png']);
    assert.deepEqual(await size(await preview('ext:webp/resize:fit:40:0:0/q:70', p)), [40, 30, 'webp']);
    assert.deepEqual(await size(await preview('ext:avif/resize:fit:40:0:0/q:70', p)), [40, 30, 'heif']);
    const low = (await (await preview('ext:jpeg/resize:fit:200:0:0/q:10', p)).arrayBuffer()).byteLength;
    const high = (await (await preview('ext:jpeg/resize:fit:200:0:0/q:95', p)).arrayBuffer()).byteLength;
    assert.ok(low < high, `q:10 (${low} B) is smaller than q:95 (${high} B)`);
  });

  it('serves the legacy x200,jpeg,q70 form', async () => {
    assert.deepEqual(await size(await get(`/previews/x200,jpeg,q70${img.pathOriginal}`)), [267, 200, 'jpeg']);
    assert.deepEqual(await size(await get(`/previews/100x,png/plain${img.pathOriginal}`)), [100, 75, 'png']);
  });

  it('previews linked images, TIFF pages, 16-bit PNG and BMP, directly or through the converter', async () => {
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:150:0:0/q:70', '/remote/s3/linked/cars/red%20car.jpg')), [150, 100, 'jpeg']);
    const page1 = await preview('ext:png/page:1/resize:fit:20:0:0/q:70', '/remote/s3/linked/scan.tif');
    const { data } = await sharp(Buffer.from(await page1.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([...data.subarray(0, 3)], [0, 0, 255], 'page 1 is the blue one');
    assert.deepEqual(await size(await preview('resize:fit:40:0:0', '/remote/s3/linked/scan.tif')), [40, 20, 'jpeg'], 'TIFF previews default to JPEG');
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:40:0:0/q:70', '/image-converter/remote/s3/linked/scan.tif')), [40, 20, 'jpeg']);
    const depth = await preview('ext:png/resize:fit:64:0:0/q:70', '/remote/s3/linked/depth.png');
    const stats = await sharp(Buffer.from(await depth.arrayBuffer())).stats();
    assert.ok((stats.channels[0]?.max ?? 0) >= 250, '16-bit data is windowed, not shown black');
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:15:0:0/q:70', '/remote/s3/linked/mask.bmp')), [15, 10, 'jpeg']);
    assert.deepEqual(await size(await get('/previews/x10,png/image-converter/remote/s3/linked/mask.bmp')), [15, 10, 'png']);
    assert.deepEqual(await size(await preview('resize:fit:10:0:0', '/remote/s3/linked/alpha.png')), [10, 10, 'png'], 'transparency keeps PNG');
  });

  it('previews images of a host folder (fs://) read in place, and refuses a symbolic link out of it', async () => {
    const folder = join(t.dataPath, 'host-photos');
    await mkdir(join(folder, 'day 1'), { recursive: true });
    await writeFile(join(folder, 'day 1', 'cat.jpg'), await makeJpeg(320, 240, { seed: 9 }));
    await writeFile(join(t.dataPath, 'outside.jpg'), jpeg);
    await symlink(join(t.dataPath, 'outside.jpg'), join(folder, 'escape.jpg'));
    const store = createFsStore({ folders: { photos: folder }, name: 'host' });
    // Reading an original through get() would copy it through memory; in place, sharp opens the file.
    const getObject = store.get.bind(store);
    let gets = 0;
    store.get = (...args) => { gets += 1; return getObject(...args); };
    t.app.services.links.set({ name: 'host', provider: 'fs', store, buckets: ['photos'] });
    assert.deepEqual(await size(await preview('ext:jpeg/resize:fit:80:0:0/q:70', '/remote/fs/photos/day%201/cat.jpg')), [80, 60, 'jpeg']);
    assert.equal(gets, 0, 'the preview read the host file in place');
    assert.deepEqual(await size(await preview('ext:png/resize:fit:40:0:0/q:70', '/image-converter/remote/fs/photos/day%201/cat.jpg')), [40, 30, 'png']);
    assert.equal((await preview('ext:jpeg/resize:fit:80:0:0/q:70', '/remote/fs/photos/escape.jpg')).status, 403);
    assert.equal((await preview('ext:jpeg/resize:fit:80:0:0/q:70', '/remote/fs/photos/none.jpg')).status, 404);
  });

  it('refuses bad parameters with 400 naming them, and missing originals with 404', async () => {
    const cases: Array<[string, string]> = [
      [`/previews/q/blur:3/plain${img.pathOriginal}`, 'blur'],
      [`/previews/q/ext:jpeg/resize:fill:0:0:0/q:70/plain${img.pathOriginal}`, 'width'],
      [`/previews/q/ext:jpeg/resize:fit:100000:None:0/q:70/plain${img.pathOriginal}`, 'width'],
      [`/previews/q/ext:jpeg/resize:fit:10:10:0/q:0/plain${img.pathOriginal}`, 'quality'],
      [`/previews/q/ext:jpeg/resize:fit:10:10:0/q:101/plain${img.pathOriginal}`, 'quality'],
      ['/previews/q/ext:jpeg/resize:fit:10:10:0/q:70/plain/etc/passwd', 'path'],
      ['/previews/q/ext:jpeg/resize:fit:10:10:0/q:70/plain/remote/s3/unknown-bucket/x.jpg', 'path'],
      [`/previews/q/ext:jpeg/page:1/plain${img.pathOriginal}`, 'page'],
    ];
    for (const [url, field] of cases) {
      const res = await get(url);
      const body = await res.json() as { error: string; details: { field?: string } };
      assert.equal(res.status, 400, `${url}: ${body.error}`);
      assert.equal(body.details.field, field, url);
    }
    assert.equal((await get('/previews/q/ext:jpeg/plain/stowage-public/images/none.jpg')).status, 404);
  });

  it('answers 422 for a corrupt original and 415 for a non-image, and stays up', async () => {
    const corrupt = await preview('ext:jpeg/resize:fit:10:10:0/q:70', '/remote/s3/linked/corrupt.jpg');
    assert.equal(corrupt.status, 422);
    assert.match((await corrupt.json() as { error: string }).error, /cannot be decoded/);
    const text = await preview('ext:jpeg/resize:fit:10:10:0/q:70', '/remote/s3/linked/notes.txt');
    assert.equal(text.status, 415);
    assert.match((await text.json() as { error: string }).error, /not an image/);
    assert.equal((await fetch(`${t.baseUrl}/healthz`)).status, 200);
    assert.equal((await preview('ext:jpeg/resize:fit:10:0:0/q:70', img.pathOriginal)).status, 200);
  });

  it('needs an API key or a signed URL: of the preview, or of the original (SDK-style derivation)', async () => {
    const path = `/previews/q/ext:jpeg/resize:fit:64:0:0/q:70/plain${img.pathOriginal}`;
    assert.equal((await fetch(t.baseUrl + path)).status, 401);
    const { url } = await t.ok('storage.sign', { path, expiresIn: 60 });
    assert.deepEqual(await size(await fetch(url)), [64, 48, 'jpeg']);
    const original = await t.ok('storage.sign', { path: img.pathOriginal, expiresIn: 60 });
    const derived = resizeImageUrl(original.url, 'jpeg', 'fit', 32, 0);
    assert.deepEqual(await size(await fetch(derived)), [32, 24, 'jpeg']);
    const tampered = derived.replace(/signature=([0-9a-f])/, (_m, c: string) => `signature=${c === '0' ? '1' : '0'}`);
    assert.equal((await fetch(tampered)).status, 401);
    const bad = await t.call('storage.sign', { path: `/previews/q/blur:1/plain${img.pathOriginal}` });
    assert.equal(bad.status, 400);
    assert.equal((await t.call('storage.sign', { path: '/previews/q/ext:jpeg/plain/etc/passwd' })).status, 400);
  });

  it('makes one preview for a burst of identical cold requests, and serves a burst of different ones', async () => {
    const before = t.app.services.caches.previews.stats();
    const url = `/previews/q/ext:webp/resize:fit:123:0:0/q:60/plain${img.pathOriginal}`;
    const same = await Promise.all(Array.from({ length: 8 }, () => get(url)));
    const bodies = await Promise.all(same.map(async (r) => { assert.equal(r.status, 200); return Buffer.from(await r.arrayBuffer()); }));
    const after1 = t.app.services.caches.previews.stats();
    assert.equal(after1.bytesFetched - before.bytesFetched, bodies[0]?.length, 'one fill');
    const many = await Promise.all(Array.from({ length: 24 }, (_v, i) => preview(`ext:jpeg/resize:fit:${20 + i}:0:0/q:70`, img.pathOriginal)));
    for (const r of many) assert.equal(r.status, 200);
    await Promise.all(many.map((r) => r.arrayBuffer()));
  });
});
