/**
 * Image type and dimensions from the header bytes alone, over a
 * {@link SparseBytes} view of the file: linked images are described by
 * reading a few KB of a remote object (see `services/link-metadata.ts`), and
 * when the header lies further in (a JPEG whose EXIF pushes the SOF marker
 * past the first read, a TIFF whose IFD sits after the pixels) the parser says
 * which bytes it needs instead of asking for everything up to them.
 *
 * Dimensions are the stored pixel grid (EXIF orientation not applied), as
 * {@link probeImage} reports for uploads.
 */
import { SNIFF_HEAD_BYTES, sniffMime } from './sniff.ts';
import { BadHeader, NeedBytes, SparseBytes, TruncatedFile, type Size } from './sparse-bytes.ts';
import { heifSize, tiffSize } from './image-header-containers.ts';

/** What a header says. */
export interface ImageHeader {
  mime: string;
  /** Extension without the dot, from the magic bytes. */
  ext: string;
  width: number;
  height: number;
}

/** Outcome of {@link parseImageHeader}. */
export type HeaderResult =
  | { status: 'ok'; header: ImageHeader }
  /** These bytes are needed (absolute offset in the file); add them and parse again. */
  | { status: 'need'; offset: number; length: number }
  /** Not a supported image, or a damaged header; `reason` says which. */
  | { status: 'invalid'; reason: string };

/**
 * Parses the header held in `bytes` (a whole file as a Buffer, or a sparse
 * view of a remote one). Never throws for bad content: the result says what
 * is wrong, or which bytes to fetch next.
 */
export function parseImageHeader(bytes: Buffer | SparseBytes): HeaderResult {
  const view = Buffer.isBuffer(bytes) ? SparseBytes.of(bytes) : bytes;
  try {
    const headLength = Math.min(SNIFF_HEAD_BYTES, view.size ?? SNIFF_HEAD_BYTES);
    if (headLength === 0) return { status: 'invalid', reason: 'empty file' };
    const sniffed = sniffMime(view.read(0, headLength));
    if (sniffed === undefined) return { status: 'invalid', reason: 'unrecognised content' };
    if (sniffed.kind !== 'image') return { status: 'invalid', reason: `${sniffed.mime} is not an image` };
    const size = sizeOf(sniffed.mime, view);
    if (!isDimension(size.width) || !isDimension(size.height)) {
      return { status: 'invalid', reason: `${sniffed.ext} header has no valid dimensions` };
    }
    return { status: 'ok', header: { mime: sniffed.mime, ext: sniffed.ext, ...size } };
  } catch (err) {
    if (err instanceof NeedBytes) return { status: 'need', offset: err.offset, length: err.length };
    if (err instanceof TruncatedFile) return { status: 'invalid', reason: `truncated header (${err.message})` };
    if (err instanceof BadHeader) return { status: 'invalid', reason: err.message };
    throw err;
  }
}

function sizeOf(mime: string, b: SparseBytes): Size {
  switch (mime) {
    case 'image/jpeg': return jpegSize(b);
    case 'image/png': return pngSize(b);
    case 'image/gif': return { width: b.u16(6, true), height: b.u16(8, true) };
    case 'image/webp': return webpSize(b);
    case 'image/bmp': return bmpSize(b);
    case 'image/tiff': return tiffSize(b);
    case 'image/avif':
    case 'image/heic':
    case 'image/heif': return heifSize(b);
    default: throw new BadHeader(`${mime} headers are not supported`);
  }
}

function isDimension(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

/** IHDR is always the first chunk, right after the signature. */
function pngSize(b: SparseBytes): Size {
  if (b.ascii(12, 4) !== 'IHDR') throw new BadHeader('png: first chunk is not IHDR');
  return { width: b.u32(16, false), height: b.u32(20, false) };
}

/** BITMAPCOREHEADER (12 bytes) has 16-bit sizes; later headers signed 32-bit, negative height = top-down. */
function bmpSize(b: SparseBytes): Size {
  if (b.u32(14, true) === 12) return { width: b.u16(18, true), height: b.u16(20, true) };
  return { width: b.read(18, 4).readInt32LE(0), height: Math.abs(b.read(22, 4).readInt32LE(0)) };
}

/** The first chunk after `RIFF....WEBP` decides: lossy, lossless or extended (canvas size). */
function webpSize(b: SparseBytes): Size {
  const chunk = b.ascii(12, 4);
  if (chunk === 'VP8X') return { width: b.u24le(24) + 1, height: b.u24le(27) + 1 };
  if (chunk === 'VP8L') {
    if (b.u8(20) !== 0x2f) throw new BadHeader('webp: bad VP8L signature');
    const bits = b.u32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') {
    if (b.read(23, 3).toString('hex') !== '9d012a') throw new BadHeader('webp: bad VP8 start code');
    return { width: b.u16(26, true) & 0x3fff, height: b.u16(28, true) & 0x3fff };
  }
  throw new BadHeader(`webp: unknown first chunk "${chunk}"`);
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT (C4), JPG (C8), DAC (CC). */
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
/** Markers without a length field. */
const STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8]);
/** More segments than any real file has before its frame header. */
const MAX_JPEG_SEGMENTS = 1024;

/** A JPEG segment before the image data: its marker, the offset of its `FF`, and its length field (which counts itself). */
export interface JpegSegment {
  marker: number;
  at: number;
  length: number;
}

/**
 * The segments from SOI up to the image data (SOS) or the end (EOI), each
 * stepped over by its length: EXIF, XMP and ICC data are never read unless
 * the caller reads them. Markers without a length (RSTn, TEM) are skipped.
 * @throws NeedBytes or TruncatedFile past the bytes held; BadHeader for a broken layout.
 */
export function* jpegSegments(b: SparseBytes): Generator<JpegSegment> {
  let at = 2;
  for (let n = 0; n < MAX_JPEG_SEGMENTS; n++) {
    if (b.u8(at) !== 0xff) throw new BadHeader(`jpeg: no marker at byte ${at}`);
    let marker = b.u8(at + 1);
    while (marker === 0xff) marker = b.u8(++at + 1); // fill bytes
    if (STANDALONE.has(marker)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return;
    const length = b.u16(at + 2, false);
    if (length < 2) throw new BadHeader(`jpeg: bad segment length at byte ${at}`);
    yield { marker, at, length };
    at += 2 + length;
  }
  throw new BadHeader('jpeg: too many segments before the image data');
}

/** Whether a marker starts a frame (SOFn). */
export function isFrameMarker(marker: number): boolean {
  return SOF_MARKERS.has(marker);
}

/** The size in the first frame header. */
function jpegSize(b: SparseBytes): Size {
  for (const seg of jpegSegments(b)) {
    if (isFrameMarker(seg.marker)) return { height: b.u16(seg.at + 5, false), width: b.u16(seg.at + 7, false) };
  }
  throw new BadHeader('jpeg: no frame header before the image data');
}
