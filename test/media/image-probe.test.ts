import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../src/errors.ts';
import { probeImage } from '../../src/media/image-probe.ts';
import {
  makeAvif, makeBlankPng, makeBmp, makeGif, makeJpeg, makePng, makeTiff, makeVideo, makeWebp,
} from '../helpers/media-fixtures.ts';

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'image-probe-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function file(name: string, bytes: Buffer | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Asserts an Unprocessable AppError naming `field`, whose message matches `re`. */
async function rejectsUnprocessable(p: Promise<unknown>, re: RegExp, field = 'file'): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.kind, 'Unprocessable');
    assert.deepEqual(err.details, { field });
    assert.match(err.message, /^file is not a supported image: /);
    assert.match(err.message, re);
    return true;
  });
}

describe('probeImage: exact dimensions per format', () => {
  const cases: [string, (w: number, h: number) => Promise<Buffer> | Buffer, string, string][] = [
    ['jpeg', makeJpeg, 'image/jpeg', 'jpg'],
    ['png', makePng, 'image/png', 'png'],
    ['webp', makeWebp, 'image/webp', 'webp'],
    ['gif', makeGif, 'image/gif', 'gif'],
    ['tiff', makeTiff, 'image/tiff', 'tiff'],
    ['avif', makeAvif, 'image/avif', 'avif'],
    ['bmp', makeBmp, 'image/bmp', 'bmp'],
  ];
  for (const [name, make, mime, ext] of cases) {
    it(name, async () => {
      const path = await file(`a.${name}`, await make(37, 23));
      // libtiff always writes Orientation=1; other encoders write no tag.
      const { orientation, ...rest } = await probeImage(path);
      assert.deepEqual(rest, { mime, ext, width: 37, height: 23 });
      assert.ok(orientation === undefined || orientation === 1);
    });
  }

  it('ignores the file name extension', async () => {
    const path = await file('really-a-png.jpg', await makePng(5, 9));
    assert.deepEqual(await probeImage(path), { mime: 'image/png', ext: 'png', width: 5, height: 9 });
  });

  it('reads a top-down BMP (negative height)', async () => {
    const bmp = makeBmp(4, 3);
    bmp.writeInt32LE(-3, 22);
    assert.deepEqual(await probeImage(await file('top-down.bmp', bmp)), { mime: 'image/bmp', ext: 'bmp', width: 4, height: 3 });
  });
});

describe('probeImage: orientation', () => {
  it('reports stored pixels and the EXIF tag, without swapping', async () => {
    const path = await file('rotated.jpg', await makeJpeg(40, 10, { orientation: 6 }));
    assert.deepEqual(await probeImage(path), { mime: 'image/jpeg', ext: 'jpg', width: 40, height: 10, orientation: 6 });
  });

  it('passes orientation 1 through', async () => {
    const path = await file('upright.jpg', await makeJpeg(4, 2, { orientation: 1 }));
    assert.equal((await probeImage(path)).orientation, 1);
  });
});

describe('probeImage: large canvas', () => {
  it('reads a 20000×20000 PNG from its header, above sharp\'s default pixel limit', async () => {
    const path = await file('huge.png', makeBlankPng(20000, 20000));
    assert.deepEqual(await probeImage(path), { mime: 'image/png', ext: 'png', width: 20000, height: 20000 });
  });

  it('reads only the header: a file cut off right after its header still probes', async () => {
    // A decoder would fail on the missing pixel data; a header read cannot notice it.
    const path = await file('cut.png', makeBlankPng(20000, 20000).subarray(0, 120));
    assert.deepEqual(await probeImage(path), { mime: 'image/png', ext: 'png', width: 20000, height: 20000 });
  });
});

describe('probeImage: rejects', () => {
  it('a text file', async () => {
    await rejectsUnprocessable(probeImage(await file('notes.txt', 'just some text\n')), /unrecognised content/);
  });

  it('an empty file', async () => {
    await rejectsUnprocessable(probeImage(await file('empty.png', '')), /unrecognised content/);
  });

  it('SVG (unsupported on purpose)', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>';
    await rejectsUnprocessable(probeImage(await file('a.svg', svg)), /unrecognised content/);
  });

  it('a video', async () => {
    const path = await makeVideo(dir, { container: 'mp4', width: 32, height: 24, seconds: 0.5, fps: 10 });
    await rejectsUnprocessable(probeImage(path), /video\/mp4 is not an image/);
  });

  it('a PNG whose header is garbage', async () => {
    const bytes = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('not a chunk at all, sorry')]);
    await rejectsUnprocessable(probeImage(await file('bad.png', bytes)), /unreadable png header/);
  });

  it('a JPEG cut after its magic bytes', async () => {
    const jpeg = await makeJpeg(16, 16);
    await rejectsUnprocessable(probeImage(await file('cut.jpg', jpeg.subarray(0, 20))), /unreadable jpg header/);
  });

  it('a WebP with a broken chunk', async () => {
    const webp = Buffer.from(await makeWebp(16, 16));
    webp.fill(0xff, 12, 40);
    await rejectsUnprocessable(probeImage(await file('bad.webp', webp)), /unreadable webp header/);
  });

  it('a BMP with zero width', async () => {
    const bmp = makeBmp(4, 3);
    bmp.writeInt32LE(0, 18);
    await rejectsUnprocessable(probeImage(await file('zero.bmp', bmp)), /no valid dimensions/);
  });

  it('names the requested field', async () => {
    await rejectsUnprocessable(probeImage(await file('x.txt', 'x'), { field: 'image' }), /unrecognised/, 'image');
  });
});
