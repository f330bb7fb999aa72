/**
 * The JPEG header reader of previews against libvips' own reading of the
 * same files (sharp's `metadata()`), and what it refuses to guess.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { openImage } from '../../src/media/convert-decode.ts';
import { jpegLayout } from '../../src/media/jpeg-layout.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';

async function agreesWithLibvips(jpeg: Buffer): Promise<void> {
  const layout = jpegLayout(jpeg);
  const meta = await sharp(jpeg).metadata();
  assert.ok(layout !== undefined, 'a plain JPEG is read');
  assert.deepEqual(
    [layout.width, layout.height, layout.components, layout.orientation],
    [meta.width, meta.height, meta.channels, meta.orientation ?? 1],
  );
}

/** `jpeg` again with a 3 kB EXIF block (so its frame header lies past the first 512 bytes) and an orientation. */
const withLongExif = async (jpeg: Buffer, orientation: number): Promise<Buffer> =>
  sharp(jpeg).withExif({ IFD0: { ImageDescription: 'x'.repeat(3000) } }).withMetadata({ orientation }).jpeg().toBuffer();

describe('jpegLayout', () => {
  it('reads size, components and every EXIF orientation as libvips does', async () => {
    await agreesWithLibvips(await makeJpeg(40, 20));
    for (let o = 1; o <= 8; o++) await agreesWithLibvips(await makeJpeg(40, 20, { orientation: o }));
    await agreesWithLibvips(await sharp(await makeJpeg(33, 17)).greyscale().jpeg().toBuffer());
    await agreesWithLibvips(await sharp(await makeJpeg(64, 48)).jpeg({ progressive: true }).toBuffer());
    await agreesWithLibvips(await withLongExif(await makeJpeg(64, 48), 6));
  });

  it('reads big-endian EXIF', async () => {
    // A hand-made APP1: "MM", IFD0 with one entry, Orientation = 8.
    const tiff = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), u16(2 + 6 + tiff.length), Buffer.from('Exif\0\0', 'latin1'), tiff]);
    const plain = await makeJpeg(30, 10);
    const jpeg = Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
    assert.equal((await sharp(jpeg).metadata()).orientation, 8);
    assert.equal(jpegLayout(jpeg)?.orientation, 8);
  });

  it('says nothing when the headers run past the bytes given, or are not plain', async () => {
    const jpeg = await withLongExif(await makeJpeg(64, 48), 3);
    assert.equal(jpegLayout(jpeg.subarray(0, 512)), undefined, 'frame header past the first 512 bytes');
    assert.equal(jpegLayout(Buffer.from('not a jpeg')), undefined);
    const cmyk = await sharp(await makeJpeg(16, 16)).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal(jpegLayout(cmyk)?.components, 4);
    // A second EXIF block: libvips' choice is not guessed.
    const plain = await makeJpeg(30, 10);
    const tiff = Buffer.from([0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), u16(2 + 6 + tiff.length), Buffer.from('Exif\0\0', 'latin1'), tiff]);
    assert.equal(jpegLayout(Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]))?.orientation, 1, 'one such block is read');
    const twice = Buffer.concat([plain.subarray(0, 2), app1, app1, plain.subarray(2)]);
    assert.equal(jpegLayout(twice), undefined);
  });

  it('opens JPEGs from the header at hand, and asks libvips when the head is too short', async () => {
    for (const o of [1, 6, 8]) {
      const jpeg = await withLongExif(await makeJpeg(60, 20), o);
      const quick = await openImage({ data: jpeg, head: jpeg.subarray(0, 512) });
      const viaLibvips = await openImage({ data: '/nonexistent', head: jpeg.subarray(0, 512) }).catch((err: unknown) => err);
      assert.ok(viaLibvips instanceof Error, 'a head without the frame header goes to libvips (which reads the path)');
      const want = o >= 5 ? [20, 60] : [60, 20];
      assert.deepEqual([quick.width, quick.height], want);
      const out = await quick.image.png().toBuffer();
      const meta = await sharp(out).metadata();
      assert.deepEqual([meta.width, meta.height], want, `orientation ${o} is applied`);
    }
  });
});

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
