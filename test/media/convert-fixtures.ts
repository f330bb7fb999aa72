/**
 * Image files sharp cannot write, built byte by byte for the converter and
 * preview tests: 16-bit and multi-page TIFFs, and BMP variants (8-bit
 * paletted, 32-bit with alpha, top-down) with distinct pixels, so channel
 * order and row order are checked, not just decoding.
 */

/** One TIFF page: `sample(x, y, c)` gives each sample (0–255 or 0–65535). */
export interface TiffPage {
  width: number;
  height: number;
  channels: 1 | 3;
  bits: 8 | 16;
  sample: (x: number, y: number, c: number) => number;
}

const SHORT = 3;
const LONG = 4;

/** An uncompressed little-endian TIFF with one IFD (page) per entry of `pages`. */
export function makeTiffPages(pages: readonly TiffPage[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 8;
  const header = Buffer.from([0x49, 0x49, 42, 0, 0, 0, 0, 0]);
  parts.push(header);
  let patchAt: { buf: Buffer; at: number } = { buf: header, at: 4 };
  for (const p of pages) {
    const pixels = pagePixels(p);
    const bitsArray = Buffer.alloc(p.channels * 2);
    for (let c = 0; c < p.channels; c++) bitsArray.writeUInt16LE(p.bits, c * 2);
    const pixelsAt = offset;
    const bitsAt = pixelsAt + pixels.length;
    const ifdAt = bitsAt + bitsArray.length;
    const entries: Array<[number, number, number, number]> = [
      [256, LONG, 1, p.width], [257, LONG, 1, p.height],
      [258, SHORT, p.channels, p.channels === 1 ? p.bits : bitsAt],
      [259, SHORT, 1, 1], [262, SHORT, 1, p.channels === 1 ? 1 : 2], [273, LONG, 1, pixelsAt],
      [277, SHORT, 1, p.channels], [278, LONG, 1, p.height], [279, LONG, 1, pixels.length], [284, SHORT, 1, 1],
    ];
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, count, value], i) => {
      const at = 2 + i * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(count, at + 4);
      if (type === SHORT && count === 1) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    patchAt.buf.writeUInt32LE(ifdAt, patchAt.at);
    patchAt = { buf: ifd, at: ifd.length - 4 };
    parts.push(pixels, bitsArray, ifd);
    offset = ifdAt + ifd.length;
  }
  return Buffer.concat(parts);
}

function pagePixels(p: TiffPage): Buffer {
  const bytes = p.bits / 8;
  const buf = Buffer.alloc(p.width * p.height * p.channels * bytes);
  let at = 0;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      for (let c = 0; c < p.channels; c++, at += bytes) {
        if (bytes === 2) buf.writeUInt16LE(p.sample(x, y, c), at);
        else buf[at] = p.sample(x, y, c);
      }
    }
  }
  return buf;
}

/** A BMP to build: `pixel(x, y)` gives [r, g, b, a] with y = 0 the top row. */
export interface BmpSpec {
  width: number;
  height: number;
  bits: 8 | 24 | 32;
  topDown?: boolean;
  /** 32-bit only: BI_BITFIELDS with an alpha mask (v5 header) instead of BI_RGB. */
  alpha?: boolean;
  pixel: (x: number, y: number) => [number, number, number, number];
  /** 8-bit only: the palette (index → [r, g, b]); `pixel`'s red is the index. */
  palette?: ReadonlyArray<[number, number, number]>;
}

/** A BMP in one of the layouts the decoder supports. */
export function makeBmpFile(s: BmpSpec): Buffer {
  const headerSize = s.alpha === true ? 124 : 40;
  const palette = s.bits === 8 ? Buffer.alloc(256 * 4) : Buffer.alloc(0);
  (s.palette ?? []).forEach(([r, g, b], i) => { palette[i * 4] = b; palette[i * 4 + 1] = g; palette[i * 4 + 2] = r; });
  const rowBytes = Math.ceil((s.width * s.bits) / 32) * 4;
  const pixelAt = 14 + headerSize + palette.length;
  const file = Buffer.alloc(pixelAt + rowBytes * s.height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(pixelAt, 10);
  file.writeUInt32LE(headerSize, 14);
  file.writeInt32LE(s.width, 18);
  file.writeInt32LE(s.topDown === true ? -s.height : s.height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(s.bits, 28);
  file.writeUInt32LE(s.alpha === true ? 3 : 0, 30);
  if (s.alpha === true) [0xff0000, 0xff00, 0xff, 0xff000000].forEach((m, i) => file.writeUInt32LE(m >>> 0, 54 + i * 4));
  palette.copy(file, 14 + headerSize);
  for (let y = 0; y < s.height; y++) {
    const row = pixelAt + (s.topDown === true ? y : s.height - 1 - y) * rowBytes;
    for (let x = 0; x < s.width; x++) writePixel(file, row, x, y, s);
  }
  return file;
}

function writePixel(file: Buffer, row: number, x: number, y: number, s: BmpSpec): void {
  const [r, g, b, a] = s.pixel(x, y);
  if (s.bits === 8) {
    file[row + x] = r;
    return;
  }
  const at = row + x * (s.bits / 8);
  file[at] = b;
  file[at + 1] = g;
  file[at + 2] = r;
  if (s.bits === 32) file[at + 3] = a;
}
