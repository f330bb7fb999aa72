/**
 * Opening originals for previews and conversion: every format the converter
 * handles, made in the tests (BMP and 16-bit/multi-page TIFF byte by byte),
 * and the refusals (corrupt, not an image, too many pixels).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { AppError } from '../../src/errors.ts';
import { openImage, type DecodedImage } from '../../src/media/convert-decode.ts';
import { renderForDisplay, renderPreview } from '../../src/media/preview-render.ts';
import { defaultPreviewOptions } from '../../src/media/preview-url.ts';
import { makeAvif, makeBlankPng, makeJpeg, makePng } from '../helpers/media-fixtures.ts';
import { makeBmpFile, makeTiffPages } from './convert-fixtures.ts';

const open = (data: Buffer, page = 0) => openImage({ data, head: data.subarray(0, 512) }, page);

/** Raw 8-bit pixels of a decoded image after `renderForDisplay` (PNG). */
async function pixels(img: DecodedImage): Promise<{ data: Buffer; channels: number; width: number; height: number }> {
  const png = await renderForDisplay(img).toBuffer();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels, width: info.width, height: info.height };
}

function px(p: { data: Buffer; channels: number; width: number }, x: number, y: number): number[] {
  const at = (y * p.width + x) * p.channels;
  return [...p.data.subarray(at, at + p.channels)];
}

async function rejectsWith(p: Promise<unknown>, kind: string, pattern: RegExp, field = 'path'): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, pattern);
    assert.equal(err.details?.['field'], field);
    return true;
  });
}

const corner = (x: number, y: number): [number, number, number, number] => [x * 60, y * 60, 200, 255];

describe('BMP decoding (no libvips loader)', () => {
  it('reads 24-bit bottom-up rows in RGB order', async () => {
    const img = await open(makeBmpFile({ width: 5, height: 3, bits: 24, pixel: corner }));
    assert.deepEqual([img.width, img.height, img.mime, img.browserSafe], [5, 3, 'image/bmp', false]);
    const p = await pixels(img);
    assert.deepEqual(px(p, 0, 0), [0, 0, 200]);
    assert.deepEqual(px(p, 4, 2), [240, 120, 200]);
  });

  it('reads 32-bit top-down with an alpha mask, and drops an all-zero alpha', async () => {
    const withAlpha = await open(makeBmpFile({ width: 3, height: 2, bits: 32, alpha: true, topDown: true, pixel: (x, y) => [x * 100, y * 100, 7, 50 + x] }));
    assert.equal(withAlpha.hasAlpha, true);
    const a = await pixels(withAlpha);
    assert.deepEqual(px(a, 2, 1), [200, 100, 7, 52]);
    const noAlpha = await open(makeBmpFile({ width: 3, height: 2, bits: 32, pixel: (x, y) => [x * 100, y * 100, 7, 0] }));
    assert.equal(noAlpha.hasAlpha, false);
    assert.deepEqual(px(await pixels(noAlpha), 1, 1), [100, 100, 7]);
  });

  it('reads 8-bit paletted bitmaps (greyscale masks, label maps)', async () => {
    const palette: Array<[number, number, number]> = [[0, 0, 0], [255, 0, 0], [0, 255, 0]];
    const img = await open(makeBmpFile({ width: 4, height: 2, bits: 8, palette, pixel: (x) => [x % 3, 0, 0, 0] }));
    const p = await pixels(img);
    assert.deepEqual(px(p, 1, 0), [255, 0, 0]);
    assert.deepEqual(px(p, 2, 1), [0, 255, 0]);
  });

  it('refuses RLE and truncated bitmaps clearly', async () => {
    const rle = makeBmpFile({ width: 4, height: 2, bits: 8, pixel: () => [0, 0, 0, 0] });
    rle.writeUInt32LE(1, 30);
    await rejectsWith(open(rle), 'UnsupportedMedia', /RLE8/);
    const full = makeBmpFile({ width: 40, height: 40, bits: 24, pixel: corner });
    await rejectsWith(open(full.subarray(0, 600)), 'Unprocessable', /truncated/);
  });
});

describe('16-bit images (display window)', () => {
  // 12-bit sensor data in a 16-bit container: plain scaling by 1/256 would leave 4-16 of 255.
  const gradient = (x: number) => 1000 + x * 40;

  it('stretches a 16-bit greyscale PNG from its percentiles to 0-255', async () => {
    const raw = new Uint16Array(64 * 8).map((_v, i) => gradient(i % 64));
    const png16 = await sharp(raw, { raw: { width: 64, height: 8, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const img = await open(png16);
    assert.equal(img.browserSafe, false, '16-bit PNGs are converted');
    const p = await pixels(img);
    assert.ok((px(p, 0, 0)[0] ?? 255) <= 5, `dark end ${px(p, 0, 0)}`);
    assert.ok((px(p, 63, 0)[0] ?? 0) >= 250, `bright end ${px(p, 63, 0)}`);
    assert.ok(Math.abs((px(p, 32, 0)[0] ?? 0) - 128) < 12, `middle ${px(p, 32, 0)}`);
  });

  it('does the same for 16-bit TIFF, greyscale and RGB, keeping colour balance', async () => {
    const grey = await pixels(await open(makeTiffPages([{ width: 64, height: 4, channels: 1, bits: 16, sample: (x) => gradient(x) }])));
    assert.ok((px(grey, 63, 0)[0] ?? 0) >= 250);
    const rgbTiff = makeTiffPages([{ width: 64, height: 4, channels: 3, bits: 16, sample: (x, _y, c) => (c === 2 ? 1000 : gradient(x)) }]);
    const rgb = await pixels(await open(rgbTiff));
    const right = px(rgb, 63, 0);
    assert.ok((right[0] ?? 0) >= 250 && (right[2] ?? 255) <= 5, `one window for all channels: ${right}`);
  });
});

describe('TIFF pages', () => {
  const colours: Array<[number, number, number]> = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
  const tiff = makeTiffPages(colours.map((rgb, i) => ({ width: 20 + i * 10, height: 10, channels: 3 as const, bits: 8 as const, sample: (_x: number, _y: number, c: number) => rgb[c] ?? 0 })));

  it('opens the first page by default and any page on request', async () => {
    for (const [page, rgb] of colours.entries()) {
      const img = await open(tiff, page);
      assert.equal(img.width, 20 + page * 10, `page ${page} has its own size`);
      assert.deepEqual(px(await pixels(img), 5, 5), rgb);
    }
    assert.deepEqual(px(await pixels(await open(tiff)), 0, 0), [255, 0, 0]);
  });

  it('refuses a page the file does not have, naming the count', async () => {
    await rejectsWith(open(tiff, 3), 'InvalidInput', /3 pages \(0-2\)/, 'page');
    await rejectsWith(open(await makeJpeg(8, 8), 1), 'InvalidInput', /has 1 page/, 'page');
  });
});

describe('refusals', () => {
  it('answers 415 for non-images and videos, 422 for corrupt data and pixel bombs', async () => {
    await rejectsWith(open(Buffer.from('plain text, not an image at all')), 'UnsupportedMedia', /not an image/);
    const mp4Head = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom\0\0\x02\0isomiso2', 'latin1')]);
    await rejectsWith(open(mp4Head), 'UnsupportedMedia', /videoframe/);
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'), Buffer.alloc(200)]);
    await rejectsWith(open(heic), 'UnsupportedMedia', /HEIC/);
    const jpeg = await makeJpeg(64, 64);
    await rejectsWith(open(Buffer.concat([jpeg.subarray(0, 300), Buffer.alloc(500, 0x55)])), 'Unprocessable', /cannot be decoded/);
    await rejectsWith(open(makeBlankPng(20000, 20000)), 'Unprocessable', /20000x20000 \(400 MP\)/);
  });
});

describe('preview rendering', () => {
  it('applies EXIF orientation and strips metadata', async () => {
    const jpeg = await makeJpeg(40, 20, { orientation: 6 });
    const img = await open(jpeg);
    assert.deepEqual([img.width, img.height], [20, 40]);
    const out = await renderPreview(img, { ...defaultPreviewOptions(), width: 10 }, 'jpeg').toBuffer();
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.width, meta.height], [10, 20]);
    assert.equal(meta.orientation, undefined);
    assert.equal(meta.exif, undefined);
    assert.equal(meta.icc, undefined);
  });

  it('keeps colours of an image with another ICC profile (converted to sRGB)', async () => {
    const p3 = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .withIccProfile('p3').jpeg({ quality: 100 }).toBuffer();
    const raw = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    assert.ok((raw[1] ?? 0) > 20, 'the stored values are P3, not sRGB red');
    const out = await renderPreview(await open(p3), defaultPreviewOptions(), 'png').toBuffer();
    assert.equal((await sharp(out).metadata()).icc, undefined);
    const { data } = await sharp(out, { ignoreIcc: true }).raw().toBuffer({ resolveWithObject: true });
    assert.ok((data[0] ?? 0) > 245 && (data[1] ?? 255) < 15 && (data[2] ?? 255) < 15, `sRGB red expected, got ${[...data.subarray(0, 3)]}`);
  });

  it('puts transparency on white for JPEG and keeps it for PNG', async () => {
    const rgba = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const img = await open(rgba);
    const jpeg = await renderPreview(img, defaultPreviewOptions(), 'jpeg').toBuffer();
    const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    assert.ok((data[0] ?? 0) > 245, 'white, not black');
    const png = await renderPreview(await open(rgba), defaultPreviewOptions(), 'png').toBuffer();
    assert.equal((await sharp(png).metadata()).hasAlpha, true);
  });

  it('decodes AVIF and encodes every preview format', async () => {
    const avif = await open(await makeAvif(32, 16));
    assert.equal(avif.mime, 'image/avif');
    for (const format of ['jpeg', 'png', 'webp', 'avif'] as const) {
      const src = await open(await makePng(32, 16));
      const out = await renderPreview(src, { ...defaultPreviewOptions(), width: 16, quality: 50 }, format).toBuffer();
      const meta = await sharp(out).metadata();
      assert.equal(meta.format, format === 'avif' ? 'heif' : format);
      assert.deepEqual([meta.width, meta.height], [16, 8]);
    }
  });
});
