/**
 * Dimensions from the two image containers whose header can sit anywhere in
 * the file: TIFF (the first IFD is wherever its offset points, often after the
 * pixel data) and HEIF/AVIF (ISO-BMFF boxes: `meta` → `iprp` → `ipco`/`ipma`).
 * Both only read the bytes they point at (see {@link SparseBytes}).
 */
import { BadHeader, type SparseBytes, type Size } from './sparse-bytes.ts';

const TIFF_WIDTH = 256;
const TIFF_HEIGHT = 257;
/** More entries than a real IFD0 has. */
const MAX_IFD_ENTRIES = 4096;

/** IFD0 of a classic TIFF or BigTIFF structure: its byte order and where each entry starts. */
export interface TiffIfd {
  le: boolean;
  big: boolean;
  entries: number[];
}

/** Locates IFD0 (TIFF files, and the EXIF block of JPEGs, which is TIFF-structured). */
export function tiffIfd0(b: SparseBytes): TiffIfd {
  const order = b.ascii(0, 2);
  if (order !== 'II' && order !== 'MM') throw new BadHeader('tiff: bad byte order');
  const le = order === 'II';
  const magic = b.u16(2, le);
  if (magic !== 42 && magic !== 43) throw new BadHeader(`tiff: bad magic ${magic}`);
  const big = magic === 43;
  const ifd = big ? b.u64(8, le) : b.u32(4, le);
  if (!Number.isFinite(ifd) || ifd < 8) throw new BadHeader('tiff: bad IFD offset');
  const count = big ? b.u64(ifd, le) : b.u16(ifd, le);
  if (count === 0 || count > MAX_IFD_ENTRIES) throw new BadHeader(`tiff: IFD has ${count} entries`);
  const entrySize = big ? 20 : 12;
  const first = ifd + (big ? 8 : 2);
  b.read(first, count * entrySize); // the whole table at once: one fetch, not one per entry
  return { le, big, entries: Array.from({ length: count }, (_v, i) => first + i * entrySize) };
}

/** Classic TIFF and BigTIFF, either byte order: ImageWidth/ImageLength of IFD0. */
export function tiffSize(b: SparseBytes): Size {
  const { le, big, entries } = tiffIfd0(b);
  let width = 0;
  let height = 0;
  for (const e of entries) {
    const tag = b.u16(e, le);
    if (tag !== TIFF_WIDTH && tag !== TIFF_HEIGHT) continue;
    const value = tiffScalar(b, e, le, big);
    if (tag === TIFF_WIDTH) width = value;
    else height = value;
  }
  return { width, height };
}

/** An inline SHORT, LONG or LONG8 value of an IFD entry. */
function tiffScalar(b: SparseBytes, entry: number, le: boolean, big: boolean): number {
  const type = b.u16(entry + 2, le);
  const at = entry + (big ? 12 : 8);
  if (type === 3) return b.u16(at, le);
  if (type === 4) return b.u32(at, le);
  if (type === 16 && big) return b.u64(at, le);
  throw new BadHeader(`tiff: dimension of type ${type}`);
}

/** One ISO-BMFF box: type and byte bounds. */
export interface Box {
  type: string;
  start: number;
  /** First byte of the content (after size, type and any largesize). */
  body: number;
  end: number;
}

/** Top-level boxes before `meta`/`moov` in real files: ftyp, free, mdat, a few more. */
const MAX_TOP_BOXES = 64;
/** Larger than any real meta box (Exif and pixels live in `mdat`). */
const MAX_META_BYTES = 1024 * 1024;

function boxAt(b: SparseBytes, at: number, limit: number): Box {
  const size32 = b.u32(at, false);
  const type = b.ascii(at + 4, 4);
  let body = at + 8;
  let size = size32;
  if (size32 === 1) {
    size = b.u64(at + 8, false);
    body = at + 16;
  } else if (size32 === 0) {
    size = limit - at;
  }
  if (!Number.isFinite(size) || size < body - at || at + size > limit) throw new BadHeader(`bad size of box "${type}" at byte ${at}`);
  return { type, start: at, body, end: at + size };
}

function children(b: SparseBytes, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let at = start; at + 8 <= end; ) {
    const box = boxAt(b, at, end);
    out.push(box);
    at = box.end;
  }
  return out;
}

/**
 * HEIF/AVIF: the `ispe` property of the primary item (`pitm`), found through
 * `ipma`; the largest `ispe` when the file does not say (grid tiles and
 * thumbnails are smaller than the image they belong to).
 */
export function heifSize(b: SparseBytes): Size {
  const meta = findTopBox(b, 'meta');
  if (meta.end - meta.start > MAX_META_BYTES) throw new BadHeader('heif: meta box is implausibly large');
  b.read(meta.start, meta.end - meta.start); // the whole box at once
  const inMeta = children(b, meta.body + 4, meta.end);
  const iprp = inMeta.find((x) => x.type === 'iprp');
  if (iprp === undefined) throw new BadHeader('heif: no item properties (iprp)');
  const inIprp = children(b, iprp.body, iprp.end);
  const ipco = inIprp.find((x) => x.type === 'ipco');
  if (ipco === undefined) throw new BadHeader('heif: no property container (ipco)');
  const props = children(b, ipco.body, ipco.end);
  const sizes = new Map<number, Size>();
  props.forEach((p, i) => {
    if (p.type === 'ispe') sizes.set(i + 1, { width: b.u32(p.body + 4, false), height: b.u32(p.body + 8, false) });
  });
  if (sizes.size === 0) throw new BadHeader('heif: no image size (ispe)');
  const pitm = inMeta.find((x) => x.type === 'pitm');
  const ipma = inIprp.find((x) => x.type === 'ipma');
  if (pitm !== undefined && ipma !== undefined) {
    const primary = b.u8(pitm.body) === 0 ? b.u16(pitm.body + 4, false) : b.u32(pitm.body + 4, false);
    const index = primaryIspe(b, ipma, primary, sizes);
    const size = index === undefined ? undefined : sizes.get(index);
    if (size !== undefined) return size;
  }
  return [...sizes.values()].reduce((a, c) => (c.width * c.height > a.width * a.height ? c : a));
}

/**
 * The first top-level ISO-BMFF box of `type` (`meta` of a HEIF, `moov` of an
 * MP4). Only box headers are read on the way: an `mdat` of gigabytes is
 * stepped over by its size.
 */
export function findTopBox(b: SparseBytes, type: string): Box {
  const limit = b.size ?? Number.MAX_SAFE_INTEGER;
  let at = 0;
  for (let n = 0; n < MAX_TOP_BOXES && at + 8 <= limit; n++) {
    const box = boxAt(b, at, limit);
    if (box.type === type) return box;
    at = box.end;
  }
  throw new BadHeader(`no top-level "${type}" box`);
}

/** The index (1-based, into ipco) of the ispe associated with `item`, if any. */
function primaryIspe(b: SparseBytes, ipma: Box, item: number, sizes: Map<number, Size>): number | undefined {
  const version = b.u8(ipma.body);
  const wideIndex = (b.u32(ipma.body, false) & 1) === 1;
  const count = b.u32(ipma.body + 4, false);
  let at = ipma.body + 8;
  for (let i = 0; i < count && at < ipma.end; i++) {
    const id = version < 1 ? b.u16(at, false) : b.u32(at, false);
    at += version < 1 ? 2 : 4;
    const n = b.u8(at++);
    for (let j = 0; j < n; j++) {
      const index = wideIndex ? b.u16(at, false) & 0x7fff : b.u8(at) & 0x7f;
      at += wideIndex ? 2 : 1;
      if (id === item && sizes.has(index)) return index;
    }
  }
  return undefined;
}
