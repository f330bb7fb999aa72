/**
 * Storage paths of linked items: `/remote/<scheme>/<bucket>/<key>` streams
 * the object from its connection, with the auth, ranges and validators of
 * our own storage paths.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { linkBucket } from '../helpers/link-bucket.ts';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { makeJpeg, makeVideo } from '../helpers/media-fixtures.ts';

describe('storage paths of linked items', () => {
  let t: TestApp;
  let jpeg: Buffer;
  let img: { id: number; pathOriginal: string; fullStorageUrl: string };
  let datasetId: number;
  const key = 'cars/red car €.jpg';
  const path = '/remote/s3/linked/cars/red%20car%20%E2%82%AC.jpg';
  const get = (p: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(t.baseUrl + p, { method, headers: { 'x-api-key': t.adminKey, ...headers } });

  before(async () => {
    t = await startTestApp(catalogBackend('sqlite').url());
    jpeg = await makeJpeg(64, 48, { seed: 31 });
    await linkBucket(t, 'linked', { [key]: jpeg, '100%25.jpg': jpeg });
    const p = await t.ok('projects.add', { name: 'remote-paths', workspaceId: 1, type: 'images' });
    datasetId = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
    [img] = await t.ok('images.bulk.add', { datasetId, images: [{ title: 'red.jpg', link: `s3://linked/${key}` }] });
  });
  after(async () => { await t?.close(); });

  it('gives linked items a storage path, escaped per segment, and an absolute URL', async () => {
    assert.equal(img.pathOriginal, path);
    assert.equal(img.fullStorageUrl, t.baseUrl + path);
    const [pct] = await t.ok('images.bulk.add', { datasetId, images: [{ title: 'pct.jpg', link: 'S3://linked/100%25.jpg' }] });
    assert.equal(pct.pathOriginal, '/remote/s3/linked/100%2525.jpg', 'keys are used as written: a "%" is escaped, never decoded');
    const res = await get(pct.pathOriginal);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), jpeg);
  });

  it('streams the object with type, ETag, Last-Modified, ranges, HEAD and 304', async () => {
    const full = await get(path);
    assert.equal(full.status, 200);
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), jpeg);
    assert.equal(full.headers.get('content-type'), 'image/jpeg');
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    const etag = full.headers.get('etag');
    assert.ok(etag);
    assert.ok(Date.parse(full.headers.get('last-modified') ?? '') > 0, 'Last-Modified is an HTTP date');
    const part = await get(path, { range: 'bytes=2-11' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 2-11/${jpeg.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), jpeg.subarray(2, 12));
    const tail = await get(path, { range: 'bytes=-5' });
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), jpeg.subarray(jpeg.length - 5));
    const beyond = await get(path, { range: `bytes=${jpeg.length}-` });
    assert.equal(beyond.status, 416);
    assert.match((await beyond.json() as { error: string }).error, /range not satisfiable/);
    const head = await get(path, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(jpeg.length));
    assert.ok(head.headers.get('last-modified'));
    assert.equal((await get(path, { 'if-none-match': etag })).status, 304);
  });

  it('serves images.download and the storage path alike', async () => {
    const res = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': t.adminKey, range: 'bytes=0-9' }, body: JSON.stringify({ id: img.id }),
    });
    assert.equal(res.status, 206);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), jpeg.subarray(0, 10));
  });

  it('needs an API key or a URL signed by storage.sign', async () => {
    assert.equal((await fetch(t.baseUrl + path)).status, 401);
    const { url } = await t.ok('storage.sign', { path, expiresIn: 60 });
    const signed = await fetch(url, { headers: { range: 'bytes=0-3' } });
    assert.equal(signed.status, 206);
    assert.deepEqual(Buffer.from(await signed.arrayBuffer()), jpeg.subarray(0, 4));
    const other = new URL(url);
    other.pathname = '/remote/s3/linked/100%2525.jpg';
    assert.equal((await fetch(other)).status, 401, 'a signature is for one path');
    const unknown = await t.call('storage.sign', { path: '/remote/s3/elsewhere/a.jpg' });
    assert.equal(unknown.status, 400);
    assert.match((await unknown.json() as { error: string }).error, /bucket "elsewhere"/);
  });

  it('answers 4xx naming the problem: unknown bucket or scheme, no key, traversal, missing object', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['/remote/s3/elsewhere/a.jpg', 400, /no remote connection allows minio bucket "elsewhere"/],
      ['/remote/ftp/linked/a.jpg', 400, /not a valid link/],
      ['/remote/https/example.com/a.jpg', 400, /public http\(s\) links are not served/],
      ['/remote/s3/linked', 400, /expected \/remote\/<scheme>\/<bucket>\/<key>/],
      ['/remote/s3/linked/cars/%252e%252e/x.jpg', 400, /percent-encoded "\." or "\.\." segments/],
      ['/remote/s3/linked/cars/none.jpg', 404, /./],
    ];
    for (const [p, status, message] of cases) {
      const res = await get(p);
      const body = await res.json() as { error: string };
      assert.equal(res.status, status, `${p}: ${body.error}`);
      assert.match(body.error, message, p);
    }
    // fetch() resolves dot segments itself: send the raw path as a client could.
    const raw = await new Promise<number | undefined>((resolve, reject) => {
      const { hostname, port } = new URL(t.baseUrl);
      const path = '/remote/s3/linked/cars/../../linked/x.jpg';
      request({ hostname, port, path, headers: { 'x-api-key': t.adminKey } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject).end();
    });
    assert.equal(raw, 400);
  });

  it('gives a linked video a processingPath that the SDK\'s thumbnail URL turns into a frame', async () => {
    const mp4 = await readFile(await makeVideo(t.dataPath, { container: 'mp4', width: 64, height: 48, seconds: 1, fps: 10 }));
    await linkBucket(t, 'clips', { 'a/clip.mp4': mp4 });
    const vp = await t.ok('projects.add', { name: 'remote-videos', workspaceId: 1, type: 'videos' });
    const vds = (await t.ok('datasets.add', { projectId: vp.id, name: 'ds' })).id;
    const [video] = await t.ok('videos.bulk.add', { datasetId: vds, videos: [{ name: 'clip.mp4', link: 's3://clips/a/clip.mp4' }] });
    assert.equal(video.processingPath, 'remote/s3/clips/a/clip.mp4');
    // The URL of the SDK's VideoInfo.image_preview_url (api-compat.md).
    const res = await get(`/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/image-converter/videoframe/33p/${video.processingPath}?videoStreamIndex=0`);
    assert.equal(res.status, 200, await res.clone().text());
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.equal(meta.format, 'jpeg');
    // enlarge is 0 in that URL: the 64×48 frame keeps its size.
    assert.deepEqual([meta.width, meta.height], [64, 48]);
  });

  it('keeps public links as they are: browsers load them directly', async () => {
    const [pub] = await t.ok('images.bulk.add', {
      datasetId, forceMetadataForLinks: false, images: [{ title: 'pub.jpg', link: 'https://example.com/a/b.jpg' }],
    });
    assert.equal(pub.pathOriginal, null);
    assert.equal(pub.fullStorageUrl, 'https://example.com/a/b.jpg');
  });
});
