/**
 * The image converter over HTTP: formats browsers cannot show become PNG
 * (cached), browser formats are served as they are, video frames become
 * JPEG thumbnails, and the originals stay untouched.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, uploadForm, type TestApp } from '../helpers/app.ts';
import { linkBucket } from '../helpers/link-bucket.ts';
import { makeJpeg, makeVideo } from '../helpers/media-fixtures.ts';
import { makeBmpFile, makeTiffPages } from '../media/convert-fixtures.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('image converter', () => {
  let t: TestApp;
  let dir: string;
  let tiff: Buffer;
  let tiffImage: { id: number; pathOriginal: string };
  let video: { pathOriginal: string; processingPath: string };
  const headers = () => ({ 'x-api-key': t.adminKey });
  const get = (path: string, extra: Record<string, string> = {}, method = 'GET') =>
    fetch(t.baseUrl + path, { method, headers: { ...headers(), ...extra } });
  const image = async (res: Response) => {
    assert.equal(res.status, 200, await res.clone().text());
    const bytes = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    return { bytes, meta, type: res.headers.get('content-type') };
  };

  before(async () => {
    t = await startTestApp(catalogBackend('sqlite').url());
    dir = await mkdtemp(join(tmpdir(), 'stowage-converter-'));
    const rgb = [[200, 10, 10], [10, 200, 10], [10, 10, 200]];
    tiff = makeTiffPages(rgb.map((c) => ({ width: 60, height: 30, channels: 3 as const, bits: 8 as const, sample: (_x: number, _y: number, ch: number) => c[ch] ?? 0 })));
    const mp4 = await readFile(await makeVideo(dir, { container: 'mp4', width: 96, height: 64, seconds: 3, fps: 10 }));
    const up = await fetch(`${t.baseUrl}/public/api/v3/images.bulk.upload`, { method: 'POST', headers: headers(), body: uploadForm([tiff]) });
    assert.equal(up.status, 200, await up.clone().text());
    const form = new FormData();
    form.append('0-file', new Blob([mp4], { type: 'video/mp4' }), '0');
    assert.equal((await fetch(`${t.baseUrl}/public/api/v3/videos.bulk.upload`, { method: 'POST', headers: headers(), body: form })).status, 200);
    const ip = await t.ok('projects.add', { name: 'imgs', workspaceId: 1, type: 'images' });
    const ids = (await t.ok('datasets.add', { projectId: ip.id, name: 'ds' })).id;
    [tiffImage] = await t.ok('images.bulk.add', { datasetId: ids, images: [{ title: 'scan.tiff', hash: sha(tiff) }] });
    const vp = await t.ok('projects.add', { name: 'vids', workspaceId: 1, type: 'videos' });
    const vds = (await t.ok('datasets.add', { projectId: vp.id, name: 'ds' })).id;
    [video] = await t.ok('videos.bulk.add', { datasetId: vds, videos: [{ title: 'clip.mp4', hash: sha(mp4), meta: {} }] });
    await linkBucket(t, 'conv', {
      'photo.jpg': await makeJpeg(50, 40, { seed: 3 }),
      'depth.tif': makeTiffPages([{ width: 64, height: 8, channels: 1, bits: 16, sample: (x) => 3000 + x * 16 }]),
      'mask.bmp': makeBmpFile({ width: 7, height: 5, bits: 24, pixel: (x, y) => [x * 30, y * 50, 99, 255] }),
      'cams/clip.mp4': mp4,
    });
  });
  after(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('converts a TIFF to PNG (first page by default, page:N on request), cached, and leaves the original alone', async () => {
    const first = await get(`/image-converter${tiffImage.pathOriginal}`);
    assert.equal(first.headers.get('x-stowage-cache'), 'miss');
    const png = await image(first);
    assert.equal(png.type, 'image/png');
    assert.deepEqual([png.meta.format, png.meta.width, png.meta.height], ['png', 60, 30]);
    const { data } = await sharp(png.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([...data.subarray(0, 3)], [200, 10, 10], 'lossless');
    const again = await get(`/image-converter${tiffImage.pathOriginal}`);
    assert.equal(again.headers.get('x-stowage-cache'), 'hit');
    assert.equal(again.headers.get('etag'), first.headers.get('etag'));
    await again.arrayBuffer();
    assert.equal((await get(`/image-converter${tiffImage.pathOriginal}`, { 'if-none-match': first.headers.get('etag') ?? '' })).status, 304);
    const page2 = await image(await get(`/image-converter/page:2${tiffImage.pathOriginal}`));
    const p2 = await sharp(page2.bytes).raw().toBuffer();
    assert.deepEqual([...p2.subarray(0, 3)], [10, 10, 200]);
    const bad = await get(`/image-converter/page:3${tiffImage.pathOriginal}`);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json() as { details: { field: string } }).details.field, 'page');
    const download = await t.call('images.download', { id: tiffImage.id });
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), tiff, 'images.download returns the exact original');
    assert.ok(t.app.services.caches.converter.stats().entries >= 2);
  });

  it('converts 16-bit TIFF (windowed to 8 bits) and BMP; serves browser formats as they are', async () => {
    const depth = await image(await get('/image-converter/remote/s3/conv/depth.tif'));
    assert.equal(depth.meta.depth, 'uchar');
    const stats = await sharp(depth.bytes).stats();
    assert.ok((stats.channels[0]?.min ?? 255) <= 5 && (stats.channels[0]?.max ?? 0) >= 250, 'the window spans 0-255');
    const bmp = await image(await get('/image-converter/remote/s3/conv/mask.bmp'));
    const { data } = await sharp(bmp.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([...data.subarray((4 * 7 + 6) * 3, (4 * 7 + 6) * 3 + 3)], [180, 200, 99]);
    const jpeg = await get('/image-converter/remote/s3/conv/photo.jpg');
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
    assert.equal(jpeg.headers.get('x-stowage-cache'), null, 'not copied into the cache');
    const head = await get('/image-converter/remote/s3/conv/mask.bmp', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'image/png');
  });

  it('extracts video frames for thumbnails, by processingPath or storage path', async () => {
    assert.match(video.processingPath, /^videos\/original\//);
    const frame = await image(await get(`/image-converter/videoframe/33p/${video.processingPath}?videoStreamIndex=0`));
    assert.equal(frame.type, 'image/jpeg');
    assert.deepEqual([frame.meta.width, frame.meta.height], [96, 64]);
    assert.deepEqual((await image(await get(`/image-converter/videoframe/5${video.pathOriginal}`))).meta.width, 96);
    assert.deepEqual((await image(await get('/image-converter/videoframe/2.5s/remote/s3/conv/cams/clip.mp4'))).meta.height, 64, 'a linked video');
    const thumb = await image(await get(`/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/image-converter/videoframe/33p/${video.processingPath}?videoStreamIndex=0`));
    assert.deepEqual([thumb.meta.format, thumb.meta.width, thumb.meta.height], ['jpeg', 96, 64], 'the SDK thumbnail URL (fill 300, not enlarged)');
    const past = await get(`/image-converter/videoframe/1000/${video.processingPath}`);
    assert.equal(past.status, 400);
    assert.equal((await past.json() as { details: { field: string } }).details.field, 'frame');
    const stream = await get(`/image-converter/videoframe/0/${video.processingPath}?videoStreamIndex=3`);
    assert.equal(stream.status, 400);
  });

  it('signs converter paths, query included, and accepts a signed original', async () => {
    const path = `/image-converter/videoframe/1s/${video.processingPath}?videoStreamIndex=0`;
    const { url } = await t.ok('storage.sign', { path, expiresIn: 60 });
    assert.match(url, /\?videoStreamIndex=0&expires=\d+&signature=/);
    assert.equal((await image(await fetch(url))).meta.format, 'jpeg');
    assert.equal((await fetch(`${t.baseUrl}/image-converter${tiffImage.pathOriginal}`)).status, 401);
    const original = await t.ok('storage.sign', { path: tiffImage.pathOriginal, expiresIn: 60 });
    const converted = original.url.replace(t.baseUrl, `${t.baseUrl}/image-converter`);
    assert.equal((await image(await fetch(converted))).meta.format, 'png');
  });
});
