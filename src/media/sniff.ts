/**
 * Content sniffing from magic bytes. Upload paths use this to choose the
 * stored mime type and extension; the client's content type and file name are
 * never trusted for that.
 */
import { open } from 'node:fs/promises';

/** What a file's first bytes say it is. */
export interface SniffResult {
  mime: string;
  /** Extension without the dot, used for stored keys. */
  ext: string;
  kind: 'image' | 'video';
}

/**
 * How many leading bytes callers should pass to {@link sniffMime}. Most
 * formats need 12–16; ISO-BMFF compatible brands and the Matroska DocType sit
 * a little further in, so this leaves room for long ftyp boxes and EBML headers.
 */
export const SNIFF_HEAD_BYTES = 512;

const ASF_GUID = Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex');
const EBML_MAGIC = Buffer.from('1a45dfa3', 'hex');
const PNG_MAGIC = Buffer.from('89504e470d0a1a0a', 'hex');

const IMAGE = (mime: string, ext: string): SniffResult => ({ mime, ext, kind: 'image' });
const VIDEO = (mime: string, ext: string): SniffResult => ({ mime, ext, kind: 'video' });

const MP4 = VIDEO('video/mp4', 'mp4');
const MOV = VIDEO('video/quicktime', 'mov');

/**
 * Identifies an image or video container from its first bytes (pass at least
 * {@link SNIFF_HEAD_BYTES} when the file is that long). Returns undefined for
 * anything else, including SVG (deliberately unsupported: it is a document
 * that can carry script, not a raster) and audio-only ISO-BMFF files.
 */
export function sniffMime(head: Buffer): SniffResult | undefined {
  return sniffImage(head) ?? sniffVideo(head);
}

/** Reads up to `bytes` leading bytes of a file for {@link sniffMime}. */
export async function readHead(filePath: string, bytes = SNIFF_HEAD_BYTES): Promise<Buffer> {
  const fh = await open(filePath, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function ascii(head: Buffer, start: number, end: number): string {
  return head.length >= end ? head.toString('latin1', start, end) : '';
}

function startsWith(head: Buffer, magic: Buffer, at = 0): boolean {
  return head.length >= at + magic.length && head.subarray(at, at + magic.length).equals(magic);
}

function sniffImage(head: Buffer): SniffResult | undefined {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return IMAGE('image/jpeg', 'jpg');
  if (startsWith(head, PNG_MAGIC)) return IMAGE('image/png', 'png');
  const six = ascii(head, 0, 6);
  if (six === 'GIF87a' || six === 'GIF89a') return IMAGE('image/gif', 'gif');
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return IMAGE('image/webp', 'webp');
  const four = head.length >= 4 ? head.toString('hex', 0, 4) : '';
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  if (four === '49492a00' || four === '4d4d002a' || four === '49492b00' || four === '4d4d002b') {
    return IMAGE('image/tiff', 'tiff');
  }
  if (isBmp(head)) return IMAGE('image/bmp', 'bmp');
  return undefined;
}

/**
 * "BM" alone is too weak a signal (any text starting with those letters), so
 * also require the reserved fields to be zero and a known DIB header size.
 */
function isBmp(head: Buffer): boolean {
  if (head.length < 18 || ascii(head, 0, 2) !== 'BM') return false;
  if (head.readUInt32LE(6) !== 0) return false;
  return [12, 16, 40, 52, 56, 64, 108, 124].includes(head.readUInt32LE(14));
}

function sniffVideo(head: Buffer): SniffResult | undefined {
  if (ascii(head, 4, 8) === 'ftyp') return sniffFtyp(head);
  if (startsWith(head, EBML_MAGIC)) return sniffEbml(head);
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'AVI ') return VIDEO('video/x-msvideo', 'avi');
  if (ascii(head, 0, 3) === 'FLV' && head[3] === 0x01) return VIDEO('video/x-flv', 'flv');
  if (startsWith(head, ASF_GUID)) return VIDEO('video/x-ms-wmv', 'wmv');
  // Pre-ftyp QuickTime files open directly with one of these atoms.
  if (['moov', 'mdat', 'wide', 'pnot'].includes(ascii(head, 4, 8))) return MOV;
  return undefined;
}

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
/** ISO-BMFF brands of audio-only or non-video files that must not pass as video. */
const NON_VIDEO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B ', 'crx ', 'jp2 ', 'jpx ', 'jpm ', 'mjp2']);

/** Major brand first, then the compatible brands the head holds. */
function ftypBrands(head: Buffer): string[] {
  const boxSize = head.readUInt32BE(0);
  const end = Math.min(boxSize >= 16 ? boxSize : 16, head.length);
  const brands = [ascii(head, 8, 12)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(head, at, at + 4));
  return brands.filter((b) => b !== '');
}

/**
 * ISO-BMFF: HEIF images and MP4/QuickTime/3GP videos share the container, so
 * the brands decide. Unknown brands are treated as MP4 because cameras invent
 * their own; the video probe rejects anything ffprobe cannot read.
 */
function sniffFtyp(head: Buffer): SniffResult | undefined {
  const brands = ftypBrands(head);
  const major = brands[0];
  if (major === undefined || NON_VIDEO_BRANDS.has(major)) return undefined;
  if (AVIF_BRANDS.has(major)) return IMAGE('image/avif', 'avif');
  if (HEIC_BRANDS.has(major)) return IMAGE('image/heic', 'heic');
  if (major === 'mif1' || major === 'msf1') {
    if (brands.some((b) => AVIF_BRANDS.has(b))) return IMAGE('image/avif', 'avif');
    if (brands.some((b) => HEIC_BRANDS.has(b))) return IMAGE('image/heic', 'heic');
    return IMAGE('image/heif', 'heif');
  }
  if (major === 'qt  ') return MOV;
  if (major.startsWith('3g2')) return VIDEO('video/3gpp2', '3g2');
  if (major.startsWith('3g')) return VIDEO('video/3gpp', '3gp');
  return MP4;
}

/**
 * Matroska and WebM share the EBML header; its DocType element tells them
 * apart. A missing DocType means "matroska" per the EBML spec.
 */
function sniffEbml(head: Buffer): SniffResult {
  const docType = ebmlDocType(head);
  if (docType === 'webm') return VIDEO('video/webm', 'webm');
  return VIDEO('video/x-matroska', 'mkv');
}

const DOCTYPE_ID = 0x4282;

/** Walks the children of the EBML header element looking for DocType. */
function ebmlDocType(head: Buffer): string | undefined {
  const headerSize = readVint(head, 4, false);
  if (headerSize === undefined) return undefined;
  let at = 4 + headerSize.length;
  const end = Math.min(at + headerSize.value, head.length);
  while (at < end) {
    const id = readVint(head, at, true);
    if (id === undefined) return undefined;
    const size = readVint(head, at + id.length, false);
    if (size === undefined) return undefined;
    const dataAt = at + id.length + size.length;
    if (id.value === DOCTYPE_ID) {
      if (dataAt + size.value > head.length) return undefined;
      return head.toString('latin1', dataAt, dataAt + size.value).replace(/\0+$/, '');
    }
    at = dataAt + size.value;
  }
  return undefined;
}

/**
 * EBML variable-length integer at `at`. IDs keep their length marker bit
 * (that is how IDs are written in the spec); sizes drop it.
 */
function readVint(head: Buffer, at: number, keepMarker: boolean): { value: number; length: number } | undefined {
  const first = head[at];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (length > 8 || at + length > head.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  for (let i = 1; i < length; i++) value = value * 256 + (head[at + i] ?? 0);
  return { value, length };
}
