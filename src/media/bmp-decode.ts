/**
 * BMP decoding for previews and conversion. sharp's bundled libvips has no
 * BMP loader, so the common uncompressed layouts are read here into raw RGB(A)
 * pixels that sharp then takes as `raw` input: 24- and 32-bit (BI_RGB and
 * BI_BITFIELDS with 8-bit channels) and 8-bit paletted (greyscale masks and
 * label maps are often stored so). RLE, 1/4/16-bit and JPEG/PNG-in-BMP are
 * refused with a message saying so.
 */
import { AppError } from '../errors.ts';

/** Raw pixels, top row first, `channels` interleaved bytes per pixel. */
export interface BmpPixels {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Buffer;
}

/** Largest decoded size: the whole bitmap is held in memory while sharp reads it. */
export const MAX_BMP_RAW_BYTES = 256 * 1024 * 1024;

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };

interface Header {
  width: number;
  height: number;
  topDown: boolean;
  bits: number;
  compression: number;
  pixelOffset: number;
  headerSize: number;
  colors: number;
  /** R, G, B, A masks (BITFIELDS), A = 0 when absent. */
  masks: [number, number, number, number] | undefined;
}

/**
 * Decodes a whole BMP file.
 * @throws AppError `UnsupportedMedia` for layouts not handled here,
 *   `Unprocessable` for a truncated or inconsistent file or one too large.
 */
export function decodeBmp(file: Buffer): BmpPixels {
  const h = readHeader(file);
  const channels: 3 | 4 = h.bits === 32 && h.masks !== undefined && h.masks[3] !== 0 ? 4 : 3;
  if (h.width * h.height * channels > MAX_BMP_RAW_BYTES) {
    throw new AppError('Unprocessable', `bmp of ${h.width}x${h.height} is too large to decode (limit ${MAX_BMP_RAW_BYTES / 2 ** 20} MiB of pixels)`, { field: 'path' });
  }
  const rowBytes = Math.ceil((h.width * h.bits) / 32) * 4;
  if (h.pixelOffset + rowBytes * h.height > file.length) throw bad('truncated bmp: the pixel data is shorter than its header says');
  const out = Buffer.allocUnsafe(h.width * h.height * channels);
  const row = rowReader(file, h, channels);
  for (let y = 0; y < h.height; y++) {
    const src = h.pixelOffset + (h.topDown ? y : h.height - 1 - y) * rowBytes;
    row(src, out, y * h.width * channels);
  }
  if (channels === 4 && alphaAllZero(out)) return { width: h.width, height: h.height, channels: 3, data: dropAlpha(out) };
  return { width: h.width, height: h.height, channels, data: out };
}

function readHeader(file: Buffer): Header {
  if (file.length < 26 || file.toString('latin1', 0, 2) !== 'BM') throw bad('not a bmp file');
  const h = file.readUInt32LE(14) === 12 ? coreHeader(file) : infoHeader(file);
  if (h.width <= 0 || h.height <= 0) throw bad('bmp header has no valid dimensions');
  h.masks = readMasks(file, h);
  checkSupported(h);
  return h;
}

/** BITMAPCOREHEADER (OS/2): 16-bit dimensions, bottom-up, no compression. */
function coreHeader(file: Buffer): Header {
  return { width: file.readUInt16LE(18), height: file.readUInt16LE(20), topDown: false, bits: file.readUInt16LE(24),
    compression: BI_RGB, pixelOffset: file.readUInt32LE(10), headerSize: 12, colors: 0, masks: undefined };
}

/** BITMAPINFOHEADER and its v2–v5 extensions: a negative height means top-down rows. */
function infoHeader(file: Buffer): Header {
  const headerSize = file.readUInt32LE(14);
  if (file.length < 54 || headerSize < 40) throw bad('truncated bmp header');
  const rawHeight = file.readInt32LE(22);
  return {
    width: file.readInt32LE(18), height: Math.abs(rawHeight), topDown: rawHeight < 0,
    bits: file.readUInt16LE(28), compression: file.readUInt32LE(30), pixelOffset: file.readUInt32LE(10),
    headerSize, colors: file.readUInt32LE(46), masks: undefined,
  };
}

/** BITFIELDS masks follow a 40-byte header, or sit inside a v2+ header. */
function readMasks(file: Buffer, h: Header): Header['masks'] {
  if (h.compression !== BI_BITFIELDS && h.compression !== BI_ALPHABITFIELDS) {
    // BI_RGB 32-bit is BGRX, but many writers keep alpha in the X byte: read it, drop it if all zero.
    return h.bits === 32 ? [0xff0000, 0xff00, 0xff, 0xff000000] : undefined;
  }
  const at = 54;
  const count = h.headerSize >= 56 || h.compression === BI_ALPHABITFIELDS ? 4 : 3;
  if (file.length < at + count * 4) throw bad('truncated bmp header');
  const m = [0, 1, 2, 3].map((i) => (i < count ? file.readUInt32LE(at + i * 4) : 0));
  return [m[0] ?? 0, m[1] ?? 0, m[2] ?? 0, m[3] ?? 0];
}

function checkSupported(h: Header): void {
  const name = COMPRESSION_NAMES[h.compression];
  if (name !== undefined) throw unsupported(`${name}-compressed bmp`);
  if (h.compression !== BI_RGB && h.compression !== BI_BITFIELDS && h.compression !== BI_ALPHABITFIELDS) {
    throw unsupported(`bmp compression ${h.compression}`);
  }
  if (h.bits !== 8 && h.bits !== 24 && h.bits !== 32) throw unsupported(`${h.bits}-bit bmp`);
  if (h.compression !== BI_RGB && h.bits !== 32) throw unsupported(`${h.bits}-bit bmp with bit fields`);
  if (h.masks !== undefined && !h.masks.every((m) => m === 0 || isByteMask(m))) throw unsupported('bmp bit fields other than 8 bits per channel');
}

function isByteMask(mask: number): boolean {
  return [0xff, 0xff00, 0xff0000, 0xff000000].includes(mask >>> 0);
}

type RowFn = (src: number, out: Buffer, at: number) => void;

function rowReader(file: Buffer, h: Header, channels: number): RowFn {
  if (h.bits === 24) {
    return (src, out, at) => {
      for (let x = 0; x < h.width; x++, src += 3, at += 3) {
        out[at] = file[src + 2] ?? 0;
        out[at + 1] = file[src + 1] ?? 0;
        out[at + 2] = file[src] ?? 0;
      }
    };
  }
  if (h.bits === 32) return maskedRow(file, h, channels);
  return palettedRow(file, h);
}

function maskedRow(file: Buffer, h: Header, channels: number): RowFn {
  // Byte offset of each channel inside the little-endian 32-bit pixel.
  const [r, g, b, a] = (h.masks ?? [0xff0000, 0xff00, 0xff, 0]).map((m) => Math.log2((m >>> 0) / 0xff) / 8);
  return (src, out, at) => {
    for (let x = 0; x < h.width; x++, src += 4, at += channels) {
      out[at] = file[src + (r ?? 2)] ?? 0;
      out[at + 1] = file[src + (g ?? 1)] ?? 0;
      out[at + 2] = file[src + (b ?? 0)] ?? 0;
      if (channels === 4) out[at + 3] = file[src + (a ?? 3)] ?? 0;
    }
  };
}

function palettedRow(file: Buffer, h: Header): RowFn {
  const entries = h.colors === 0 ? 256 : Math.min(h.colors, 256);
  const paletteAt = 14 + h.headerSize;
  const entrySize = h.headerSize === 12 ? 3 : 4;
  if (paletteAt + entries * entrySize > file.length) throw bad('truncated bmp palette');
  const palette = Buffer.alloc(256 * 3);
  for (let i = 0; i < entries; i++) {
    const p = paletteAt + i * entrySize;
    palette[i * 3] = file[p + 2] ?? 0;
    palette[i * 3 + 1] = file[p + 1] ?? 0;
    palette[i * 3 + 2] = file[p] ?? 0;
  }
  return (src, out, at) => {
    for (let x = 0; x < h.width; x++, at += 3) palette.copy(out, at, (file[src + x] ?? 0) * 3, (file[src + x] ?? 0) * 3 + 3);
  };
}

function alphaAllZero(rgba: Buffer): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 0) return false;
  return true;
}

function dropAlpha(rgba: Buffer): Buffer {
  const out = Buffer.allocUnsafe((rgba.length / 4) * 3);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    out[o] = rgba[i] ?? 0;
    out[o + 1] = rgba[i + 1] ?? 0;
    out[o + 2] = rgba[i + 2] ?? 0;
  }
  return out;
}

function bad(reason: string): AppError {
  return new AppError('Unprocessable', `the original is not a readable image: ${reason}`, { field: 'path' });
}

function unsupported(what: string): AppError {
  return new AppError('UnsupportedMedia', `${what} is not supported for previews (24/32-bit uncompressed and 8-bit paletted BMPs are)`, { field: 'path' });
}
