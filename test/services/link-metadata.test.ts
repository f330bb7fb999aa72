import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AppError } from '../../src/errors.ts';
import { parseImageHeader } from '../../src/media/image-header.ts';
import { SparseBytes } from '../../src/media/sparse-bytes.ts';
import { probeVideo } from '../../src/media/video-probe.ts';
import { LinkMetadataReader, VIDEO_PREFIX_BYTES } from '../../src/services/link-metadata.ts';
import type { GetOptions, ObjectStore } from '../../src/storage/object-store.ts';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';
import { countingStore, type CountingStore } from '../helpers/counting-store.ts';
import {
  makeAvif, makeBlankPng, makeBmp, makeGif, makeJpeg, makeMetadataHeavyJpeg, makePng, makeTiff, makeVideo, makeWebp,
} from '../helpers/media-fixtures.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Feeds a sparse view from `file` until the parser is done; returns the result, the fetches and the bytes held. */
function parseSparse(file: Buffer, firstBytes = 4 * KiB) {
  const view = new SparseBytes(file.length);
  view.add(0, file.subarray(0, firstBytes));
  let fetches = 0;
  let r = parseImageHeader(view);
  while (r.status === 'need' && fetches < 20) {
    fetches += 1;
    view.add(r.offset, file.subarray(r.offset, r.offset + Math.max(r.length, 4 * KiB)));
    r = parseImageHeader(view);
  }
  return { r, fetches, held: view.held };
}

describe('parseImageHeader', () => {
  const cases: Array<[string, () => Promise<Buffer>, string]> = [
    ['jpeg', () => makeJpeg(37, 23), 'image/jpeg'],
    ['png', () => makePng(37, 23), 'image/png'],
    ['gif', () => makeGif(37, 23), 'image/gif'],
    ['webp lossless (VP8L)', () => makeWebp(37, 23), 'image/webp'],
    ['webp lossy (VP8)', async () => sharp(await makePng(37, 23)).webp({ quality: 60 }).toBuffer(), 'image/webp'],
    ['webp extended (VP8X)', async () => sharp(await makePng(37, 23)).webp().withExif({ IFD0: { Make: 'x' } }).toBuffer(), 'image/webp'],
    ['tiff little-endian', () => makeTiff(37, 23), 'image/tiff'],
    ['tiff big-endian', async () => sharp(await makePng(37, 23)).tiff({ compression: 'lzw', bigtiff: false }).toBuffer(), 'image/tiff'],
    ['avif', () => makeAvif(37, 23), 'image/avif'],
    ['bmp', async () => makeBmp(37, 23), 'image/bmp'],
  ];
  for (const [name, make, mime] of cases) {
    it(`reads ${name} dimensions like the upload probe`, async () => {
      const r = parseImageHeader(await make());
      assert.equal(r.status, 'ok', JSON.stringify(r));
      if (r.status === 'ok') assert.deepEqual({ mime: r.header.mime, width: r.header.width, height: r.header.height }, { mime, width: 37, height: 23 });
    });
  }

  it('asks for the bytes after a large EXIF block and XMP packets, and only those', async () => {
    const jpeg = await makeMetadataHeavyJpeg(640, 480, { exifChars: 60_000, xmpSegments: 2, seed: 3 });
    const meta = await sharp(jpeg).metadata();
    assert.deepEqual([meta.width, meta.height], [640, 480]);
    const first = parseImageHeader(SparseBytes.prefix(jpeg.subarray(0, 4 * KiB)));
    assert.equal(first.status, 'need');
    assert.ok(first.status === 'need' && first.offset > 4 * KiB, 'the next marker is past the first read');
    const { r, fetches, held } = parseSparse(jpeg);
    assert.deepEqual(r.status === 'ok' && [r.header.width, r.header.height], [640, 480]);
    assert.ok(fetches <= 4, `${fetches} fetches`);
    assert.ok(held <= 24 * KiB, `${held} bytes held of ${jpeg.length}`);
    assert.ok(jpeg.length > 180 * KiB);
  });

  it('jumps to a TIFF IFD written after the pixels', async () => {
    const tiff = await makeTiff(600, 400);
    assert.ok(tiff.readUInt32LE(4) > 4 * KiB, 'libtiff put IFD0 after the strips');
    const { r, held } = parseSparse(tiff);
    assert.deepEqual(r.status === 'ok' && [r.header.width, r.header.height], [600, 400]);
    assert.ok(held < tiff.length / 10);
  });

  it('reads a 20000×20000 PNG from its first bytes', () => {
    const r = parseImageHeader(makeBlankPng(20_000, 20_000).subarray(0, 64));
    assert.deepEqual(r.status === 'ok' && [r.header.width, r.header.height], [20_000, 20_000]);
  });

  it('says why content is not a supported image', async () => {
    assert.deepEqual(parseImageHeader(Buffer.from('just some text, not pixels')), { status: 'invalid', reason: 'unrecognised content' });
    const mp4 = await readFile(await makeVideo(dir, { container: 'mp4', width: 64, height: 48, seconds: 1, fps: 5 }));
    assert.match(JSON.stringify(parseImageHeader(mp4)), /video\/mp4 is not an image/);
    assert.deepEqual(parseImageHeader(Buffer.alloc(0)), { status: 'invalid', reason: 'empty file' });
    const png = await makePng(10, 10);
    assert.match(JSON.stringify(parseImageHeader(SparseBytes.of(png.subarray(0, 20), 20))), /truncated/);
    const broken = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78]);
    assert.match(JSON.stringify(parseImageHeader(broken)), /jpeg: no marker/);
  });
});

let dir = '';
let local: LocalStore;
let store: CountingStore;
let reader: LinkMetadataReader;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'link-metadata-'));
  local = createLocalStore({ root: join(dir, 'store') });
  await local.ensureBucket('bkt');
  store = countingStore(local);
  reader = new LinkMetadataReader({ tmpDir: join(dir, 'tmp') });
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function put(key: string, bytes: Buffer): Promise<{ store: CountingStore; bucket: string; key: string }> {
  await local.put('bkt', key, Readable.from([bytes]));
  store.reset();
  return { store, bucket: 'bkt', key };
}

const named = (key: string) => ({ link: `s3://bkt/${key}`, field: 'images.0.link' });

describe('LinkMetadataReader', () => {
  it('describes a linked image from one ranged get of 4 KiB', async () => {
    const png = makeBlankPng(8000, 6000);
    const at = await put('big.png', Buffer.concat([png, Buffer.alloc(2 * 1024 * KiB)]));
    const m = await reader.image(at, named('big.png'));
    assert.deepEqual({ ...m, bytesRead: undefined }, { mime: 'image/png', ext: 'png', width: 8000, height: 6000, size: png.length + 2 * 1024 * KiB, bytesRead: undefined });
    assert.equal(store.stats.gets, 1);
    assert.equal(store.stats.ranged, 1);
    assert.ok(store.stats.bytes <= 4 * KiB);
  });

  it('reads far less than the file when EXIF pushes the frame header out', async () => {
    const jpeg = await makeMetadataHeavyJpeg(800, 600, { exifChars: 60_000, xmpSegments: 3, seed: 9 });
    const at = await put('exif.jpg', jpeg);
    const m = await reader.image(at, named('exif.jpg'));
    assert.deepEqual([m.width, m.height, m.size, m.mime], [800, 600, jpeg.length, 'image/jpeg']);
    assert.ok(store.stats.bytes <= 32 * KiB, `${store.stats.bytes} bytes read of ${jpeg.length}`);
    assert.equal(m.bytesRead, store.stats.bytes);
  });

  it('copes with a store that ignores ranges, reading only up to the header', async () => {
    const jpeg = await makeMetadataHeavyJpeg(320, 200, { exifChars: 30_000, seed: 4 });
    const padded = Buffer.concat([jpeg, Buffer.alloc(4 * 1024 * KiB)]);
    await local.put('bkt', 'norange.jpg', Readable.from([padded]));
    const plain = countingStore(local, { ignoreRanges: true });
    const m = await reader.image({ store: plain, bucket: 'bkt', key: 'norange.jpg' }, named('norange.jpg'));
    assert.deepEqual([m.width, m.height], [320, 200]);
    assert.ok(m.bytesRead < 128 * KiB, `${m.bytesRead} bytes used`);
  });

  it('names the link when the object is missing, empty or not an image', async () => {
    await assert.rejects(reader.image({ store, bucket: 'bkt', key: 'nope.jpg' }, named('nope.jpg')), (err: unknown) => {
      assert.ok(err instanceof AppError && err.kind === 'InvalidInput');
      assert.match(err.message, /images\.0\.link: s3:\/\/bkt\/nope\.jpg does not exist/);
      return true;
    });
    const empty = await put('empty.jpg', Buffer.alloc(0));
    await assert.rejects(reader.image(empty, named('empty.jpg')), /s3:\/\/bkt\/empty\.jpg is not a supported image: empty file/);
    const text = await put('notes.jpg', Buffer.from('hello'));
    await assert.rejects(reader.image(text, named('notes.jpg')), (err: unknown) =>
      err instanceof AppError && err.kind === 'Unprocessable' && /notes\.jpg is not a supported image: unrecognised content/.test(err.message));
  });

  it('gives an MP4 the full fileMeta from its box headers and moov only', async () => {
    const path = await makeVideo(dir, { container: 'mp4', width: 320, height: 240, seconds: 3, fps: 25, audio: true });
    const bytes = await readFile(path);
    const at = await put('clip.mp4', Buffer.concat([bytes]));
    const m = await reader.video(at, { link: 's3://bkt/clip.mp4', field: 'videos.0.link' });
    const full = await probeVideo(path);
    assert.deepEqual(m.fileMeta, { ...full, size: String(bytes.length) });
    assert.equal(m.mime, 'video/mp4');
    assert.ok(store.stats.bytes < bytes.length / 2, `${store.stats.bytes} of ${bytes.length} bytes read`);
  });

  for (const container of ['webm', 'mkv', 'avi', 'flv', 'wmv'] as const) {
    it(`gives ${container} the full fileMeta from its first bytes only`, async () => {
      const path = await makeVideo(dir, { container, width: 320, height: 240, seconds: 2, fps: 10, audio: true });
      const bytes = await readFile(path);
      // Padding makes the object larger than the most a probe may read; the headers do not say how long the file is.
      const object = Buffer.concat([bytes, Buffer.alloc(VIDEO_PREFIX_BYTES + MiB)]);
      const at = await put(`clip.${container}`, object);
      const m = await reader.video(at, { link: `s3://bkt/clip.${container}`, field: 'videos.0.link' });
      const full = await probeVideo(path);
      assert.deepEqual(m.fileMeta, { ...full, size: String(object.length) });
      assert.deepEqual([m.fileMeta['width'], m.fileMeta['height']], [320, 240]);
      assert.ok(store.stats.bytes <= VIDEO_PREFIX_BYTES, `${store.stats.bytes} bytes read of ${object.length}`);
      assert.ok(store.stats.gets <= 2, `${store.stats.gets} gets`);
    });
  }

  it('reads a bounded start from a store that ignores ranges', async () => {
    const bytes = await readFile(await makeVideo(dir, { container: 'mkv', width: 64, height: 48, seconds: 1, fps: 10 }));
    await local.put('bkt', 'norange.mkv', Readable.from([Buffer.concat([bytes, Buffer.alloc(VIDEO_PREFIX_BYTES + MiB)])]));
    const plain = countingStore(local, { ignoreRanges: true });
    const m = await reader.video({ store: plain, bucket: 'bkt', key: 'norange.mkv' }, named('norange.mkv'));
    assert.deepEqual([m.fileMeta['width'], m.fileMeta['height'], m.fileMeta['framesCount']], [64, 48, 10]);
    assert.ok(m.bytesRead <= VIDEO_PREFIX_BYTES + 4 * KiB, `${m.bytesRead} bytes used`);
  });

  it('stops waiting for a stalled object at the probe timeout and keeps mime and size', async () => {
    const bytes = await readFile(await makeVideo(dir, { container: 'webm', width: 320, height: 240, seconds: 2, fps: 10, audio: true }));
    await local.put('bkt', 'stalled.webm', Readable.from([bytes]));
    let aborted = false;
    const stalled = Object.assign(Object.create(local) as ObjectStore, {
      get: async (bucket: string, key: string, options: GetOptions = {}) => {
        if ((options.range?.start ?? 0) === 0) return local.get(bucket, key, options);
        // The rest never arrives: the probe must give up, and the read be aborted (which ends the body, as stores do).
        const body = new PassThrough();
        options.signal?.addEventListener('abort', () => {
          aborted = true;
          body.destroy();
        });
        return { info: await local.head(bucket, key), body, range: { start: options.range?.start ?? 0, end: bytes.length - 1 } };
      },
    });
    const quick = new LinkMetadataReader({ tmpDir: join(dir, 'tmp'), probeTimeoutMs: 300 });
    const m = await quick.video({ store: stalled, bucket: 'bkt', key: 'stalled.webm' }, named('stalled.webm'));
    assert.deepEqual(m.fileMeta, { mime: 'video/webm', size: String(bytes.length) });
    assert.equal(aborted, true);
  });

  it('refuses objects that are not videos', async () => {
    const img = await put('still.png', await makePng(4, 4));
    await assert.rejects(reader.video(img, { link: 's3://bkt/still.png', field: 'videos.0.link' }), /image\/png is not a video/);
  });
});
