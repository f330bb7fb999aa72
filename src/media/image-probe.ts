/**
 * Image dimensions at upload time, read from the file header only: probing a
 * 20000×20000 scan costs the same as a thumbnail, and no pixels are decoded.
 */
import sharp from 'sharp';
import type { Metadata } from 'sharp';

// Stowage only reads headers: libvips' operation cache would hold memory for nothing.
sharp.cache(false);
import { AppError } from '../errors.ts';
import { readHead, SNIFF_HEAD_BYTES, sniffMime } from './sniff.ts';

/** What {@link probeImage} learns about an image. */
export interface ImageProbe {
  mime: string;
  /** Extension without the dot, from the magic bytes. */
  ext: string;
  /** Stored pixel width (EXIF orientation NOT applied; see {@link probeImage}). */
  width: number;
  /** Stored pixel height (EXIF orientation NOT applied). */
  height: number;
  /** EXIF Orientation tag (1–8) when the file has one. */
  orientation?: number;
}

export interface ProbeImageOptions {
  /** Request field named in error details. Default `file`. */
  field?: string;
  /** The first bytes of the file when the caller already has them (saves a read). */
  head?: Buffer;
}

/** sharp's decoder names for the formats the sniffer accepts as images. */
const SHARP_FORMATS: Record<string, readonly string[]> = {
  'image/jpeg': ['jpeg'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'image/tiff': ['tiff'],
  'image/avif': ['heif'],
  'image/heic': ['heif'],
  'image/heif': ['heif'],
};

/**
 * Reads an image's type and dimensions from its header, given a file path or
 * the whole file in memory.
 *
 * Type comes from the magic bytes ({@link sniffMime}); dimensions from
 * `sharp().metadata()` (header only), except BMP, whose header is parsed here
 * because sharp's bundled libvips has no BMP loader.
 *
 * Orientation: width/height are the stored pixel grid, as the platform
 * reports them, even when EXIF Orientation is 5–8 (which a viewer shows
 * rotated by 90°, i.e. with width and height swapped). The tag is returned as
 * `orientation` so callers that need display dimensions can swap.
 *
 * Only the header is checked: a file with a valid header and damaged pixel
 * data passes. sharp's pixel limit is disabled because nothing is decoded and
 * large aerial/medical scans are normal CV data.
 *
 * @throws AppError `Unprocessable` (details `{field}`) when the file is not a
 *   supported image or its header is unreadable.
 */
export async function probeImage(input: string | Buffer, opts: ProbeImageOptions = {}): Promise<ImageProbe> {
  const field = opts.field ?? 'file';
  const head = opts.head ?? (typeof input === 'string' ? await readHead(input) : input.subarray(0, SNIFF_HEAD_BYTES));
  const sniffed = sniffMime(head);
  if (sniffed?.kind !== 'image') {
    throw unsupported(field, sniffed === undefined ? 'unrecognised content' : `${sniffed.mime} is not an image`);
  }
  const { mime, ext } = sniffed;
  if (mime === 'image/bmp') {
    return { mime, ext, ...bmpDimensions(head, field) };
  }
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw unsupported(field, `unreadable ${ext} header`, err);
  }
  if (!SHARP_FORMATS[mime]?.includes(meta.format)) {
    throw unsupported(field, `${mime} content decodes as ${meta.format}`);
  }
  if (!isDimension(meta.width) || !isDimension(meta.height)) {
    throw unsupported(field, `${ext} header has no valid dimensions`);
  }
  const result: ImageProbe = { mime, ext, width: meta.width, height: meta.height };
  if (meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8) {
    result.orientation = meta.orientation;
  }
  return result;
}

function isDimension(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

/**
 * BITMAPCOREHEADER (12 bytes) stores 16-bit dimensions; every later header
 * stores 32-bit signed ones, with a negative height meaning top-down rows.
 */
function bmpDimensions(head: Buffer, field: string): { width: number; height: number } {
  if (head.length >= 18 && head.readUInt32LE(14) === 12 && head.length >= 22) {
    return checked(head.readUInt16LE(18), head.readUInt16LE(20), field);
  }
  if (head.length < 26) throw unsupported(field, 'truncated bmp header');
  return checked(head.readInt32LE(18), Math.abs(head.readInt32LE(22)), field);
}

function checked(width: number, height: number, field: string): { width: number; height: number } {
  if (!isDimension(width) || !isDimension(height)) throw unsupported(field, 'bmp header has no valid dimensions');
  return { width, height };
}

function unsupported(field: string, reason: string, cause?: unknown): AppError {
  return new AppError('Unprocessable', `file is not a supported image: ${reason}`, { field }, cause);
}
