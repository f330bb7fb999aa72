/**
 * Opens an original for previews and conversion: whatever its format, the
 * result is an 8-bit sRGB (or greyscale) sharp pipeline with EXIF orientation
 * applied, plus what callers need to size and encode it.
 *
 * Decoder limits: images over {@link MAX_DECODE_PIXELS} are refused before a
 * pixel is decoded (a 50 KB PNG can claim 20000×20000), BMPs are bounded by
 * their raw size, and libvips runs without its operation cache.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { AppError, invalidInput } from '../errors.ts';
import { decodeBmp } from './bmp-decode.ts';
import { jpegLayout } from './jpeg-layout.ts';
import { applyWindow, measureWindow, needsWindow } from './convert-window.ts';
import { sniffMime } from './sniff.ts';

// Previews read each original once: libvips' operation cache would only hold memory.
sharp.cache(false);

/** Largest image decoded, in pixels (16383², sharp's own default limit). */
export const MAX_DECODE_PIXELS = 16383 * 16383;

/** An original in memory, or spooled to a file when large. */
export interface ImageInput {
  /** The bytes, or the path of a file holding them. */
  data: Buffer | string;
  /** The first bytes (at least 512 when the object is that long), for sniffing. */
  head: Buffer;
}

/** An opened image, ready to resize and encode. */
export interface DecodedImage {
  image: Sharp;
  /** Size after EXIF orientation. */
  width: number;
  height: number;
  hasAlpha: boolean;
  /** Sniffed type of the original. */
  mime: string;
  /** Whether browsers show the original as it is (8-bit JPEG, PNG, GIF, WebP). */
  browserSafe: boolean;
}

const BROWSER_SAFE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/**
 * Opens page `page` (from 0) of an original.
 * @throws AppError `UnsupportedMedia` (415) when it is not an image this build
 *   decodes, `Unprocessable` (422) when it is corrupt or too large,
 *   `InvalidInput` (400, field `page`) for a page it does not have.
 */
export async function openImage(input: ImageInput, page = 0): Promise<DecodedImage> {
  const sniffed = sniffMime(input.head);
  if (sniffed === undefined) throw new AppError('UnsupportedMedia', 'the original is not an image (unrecognised content)', { field: 'path' });
  if (sniffed.kind === 'video') {
    throw new AppError('UnsupportedMedia', `the original is a video (${sniffed.mime}): use /image-converter/videoframe/<frame>/<path> for a frame`, { field: 'path' });
  }
  if (sniffed.mime === 'image/bmp') return openBmp(input, page);
  if (sniffed.mime === 'image/jpeg' && page === 0) {
    const plain = openPlainJpeg(input);
    if (plain !== undefined) return plain;
  }
  // Headers are read without the pixel limit, so a too-large image gets a 422 saying how large it is.
  const first = await readMetadata(input.data, { limitInputPixels: false }, sniffed.mime);
  checkPage(page, first.pages ?? 1, sniffed.mime);
  const meta = page === 0 ? first : await readMetadata(input.data, { limitInputPixels: false, page }, sniffed.mime);
  checkPixels(meta.width, meta.height);
  const options: SharpOptions = { limitInputPixels: MAX_DECODE_PIXELS, failOn: 'error', page };
  let image = sharp(input.data, options);
  const hasAlpha = meta.hasAlpha;
  if (needsWindow(meta.depth)) {
    const grey = meta.channels - (hasAlpha ? 1 : 0) === 1;
    const window = await measureWindow(input.data, options, { grey, hasAlpha }).catch((err: unknown) => { throw undecodable(err); });
    image = applyWindow(image, window, { channels: meta.channels, hasAlpha });
  }
  return {
    image: image.autoOrient(),
    width: meta.autoOrient.width, height: meta.autoOrient.height, hasAlpha, mime: sniffed.mime,
    browserSafe: BROWSER_SAFE.has(sniffed.mime) && meta.depth === 'uchar',
  };
}

/**
 * An 8-bit grey or colour JPEG whose header lies in the bytes at hand, opened
 * without asking libvips for its header (see jpeg-layout.ts); undefined for
 * anything else, which takes the general path.
 */
function openPlainJpeg(input: ImageInput): DecodedImage | undefined {
  const layout = jpegLayout(typeof input.data === 'string' ? input.head : input.data);
  if (layout === undefined || layout.precision !== 8 || (layout.components !== 1 && layout.components !== 3)) return undefined;
  checkPixels(layout.width, layout.height);
  // Orientations 5–8 turn the image a quarter.
  const turned = layout.orientation >= 5;
  return {
    image: sharp(input.data, { limitInputPixels: MAX_DECODE_PIXELS, failOn: 'error' }).autoOrient(),
    width: turned ? layout.height : layout.width, height: turned ? layout.width : layout.height,
    hasAlpha: false, mime: 'image/jpeg', browserSafe: true,
  };
}

async function readMetadata(data: Buffer | string, options: SharpOptions, mime: string): Promise<Metadata> {
  try {
    return await sharp(data, options).metadata();
  } catch (err) {
    if (mime === 'image/heic' || mime === 'image/heif') {
      throw new AppError('UnsupportedMedia', 'HEIC/HEIF (HEVC) images cannot be decoded: the bundled libvips has no HEVC decoder (AVIF works)', { field: 'path' }, err);
    }
    throw undecodable(err);
  }
}

async function openBmp(input: ImageInput, page: number): Promise<DecodedImage> {
  checkPage(page, 1, 'image/bmp');
  const file = typeof input.data === 'string' ? await readFile(input.data) : input.data;
  const bmp = decodeBmp(file);
  checkPixels(bmp.width, bmp.height);
  const raw = { width: bmp.width, height: bmp.height, channels: bmp.channels };
  return {
    image: sharp(bmp.data, { raw }), width: bmp.width, height: bmp.height,
    hasAlpha: bmp.channels === 4, mime: 'image/bmp', browserSafe: false,
  };
}

function checkPage(page: number, pages: number, mime: string): void {
  if (page >= pages) {
    const has = pages === 1 ? 'has 1 page (0)' : `has ${pages} pages (0-${pages - 1})`;
    throw invalidInput('page', `page ${page} does not exist: the original (${mime}) ${has}`);
  }
}

function checkPixels(width: number, height: number): void {
  if (width * height > MAX_DECODE_PIXELS) {
    const mp = ((width * height) / 1e6).toFixed(0);
    throw new AppError('Unprocessable', `the original is ${width}x${height} (${mp} MP), more than the ${(MAX_DECODE_PIXELS / 1e6).toFixed(0)} MP previews and conversions decode`, { field: 'path' });
  }
}

/** A libvips failure as a 422 with its first line (libvips repeats itself). */
export function undecodable(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  const reason = first.replace(/^Input (buffer|file) (has corrupt header|contains unsupported image format)?:?\s*/, '') || first;
  return new AppError('Unprocessable', `the original cannot be decoded as an image: ${reason || 'unsupported or corrupt data'}`, { field: 'path' }, err);
}
