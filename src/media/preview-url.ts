/**
 * Parsing of preview URLs (api-compat §8): the imgproxy style the SDK builds,
 * `/previews/<signature>/<option>/…/plain/<source path>`, and the legacy
 * `/previews/x200,jpeg,q70/<source path>`. Pure: no I/O, every bad parameter
 * is a 400 naming it.
 */
import { invalidInput } from '../errors.ts';

/** Output formats a preview can have. */
export const PREVIEW_FORMATS = ['jpeg', 'png', 'webp', 'avif'] as const;
export type PreviewFormat = (typeof PREVIEW_FORMATS)[number];

/** imgproxy resizing types. */
export const RESIZE_TYPES = ['fit', 'fill', 'fill-down', 'force', 'auto'] as const;
export type ResizeType = (typeof RESIZE_TYPES)[number];

/** Largest preview side in pixels (WebP's limit, and far beyond any display). */
export const MAX_PREVIEW_SIDE = 16383;
/** Quality when the URL gives none (imgproxy's default). */
export const DEFAULT_QUALITY = 80;
/** Highest page/frame index accepted in a URL. */
const MAX_PAGE = 100_000;

/** What a preview URL asks for. Width or height 0 = derived from the other side (both 0: no resize). */
export interface PreviewOptions {
  /** Undefined: the source's own format when a browser shows it, else JPEG (PNG with alpha). */
  format: PreviewFormat | undefined;
  resize: ResizeType;
  width: number;
  height: number;
  enlarge: boolean;
  quality: number;
  /** Page of a multi-page TIFF or frame of an animated GIF/WebP, from 0. */
  page: number;
}

/** A parsed preview URL. */
export interface PreviewUrl {
  options: PreviewOptions;
  /** The source path as written in the URL (percent-encoded, no leading `/`). */
  source: string;
}

/** Options of a URL with none given. */
export function defaultPreviewOptions(): PreviewOptions {
  return { format: undefined, resize: 'fit', width: 0, height: 0, enlarge: false, quality: DEFAULT_QUALITY, page: 0 };
}

/** `x200,jpeg,q70`, `640x480`, `jpeg,x200`: comma-separated tokens with a `<w>x<h>` size. */
function isLegacySpec(segment: string): boolean {
  const tokens = segment.split(',');
  return tokens.every((t) => /^[a-z0-9]+$/i.test(t)) && tokens.some((t) => /^\d+x\d*$|^\d*x\d+$/.test(t));
}

/**
 * Parses what follows `/previews/` in a URL path (still percent-encoded).
 * @throws AppError `InvalidInput` naming the option or `path`.
 */
export function parsePreviewUrl(rest: string): PreviewUrl {
  const slash = rest.indexOf('/');
  const first = slash === -1 ? rest : rest.slice(0, slash);
  if (isLegacySpec(first)) return parseLegacy(first, rest.slice(slash + 1));
  const segments = rest.split('/');
  const plain = segments.indexOf('plain');
  if (plain === -1) {
    throw invalidInput('path', 'preview URL: expected /previews/<signature>/<options>/plain/<storage path> or /previews/x200,jpeg,q70/<path>');
  }
  // The first segment is imgproxy's signature; access is checked by API key or signed URL instead.
  const optionSegments = segments.slice(first.includes(':') ? 0 : 1, plain);
  const options = defaultPreviewOptions();
  for (const segment of optionSegments) if (segment !== '') applyOption(options, segment);
  return { options: checked(options), source: requireSource(segments.slice(plain + 1).join('/')) };
}

function requireSource(source: string): string {
  if (source === '') throw invalidInput('path', 'preview URL: no storage path after the options');
  return source;
}

type OptionHandler = (o: PreviewOptions, args: readonly string[], name: string) => void;

const OPTIONS: Record<string, OptionHandler> = {
  resize: (o, a) => {
    setResizeType(o, a[0]);
    setSize(o, a.slice(1));
  },
  size: (o, a) => setSize(o, a),
  resizing_type: (o, a) => setResizeType(o, a[0]),
  width: (o, a) => { if (a[0] !== undefined) o.width = side(a[0], 'width'); },
  height: (o, a) => { if (a[0] !== undefined) o.height = side(a[0], 'height'); },
  enlarge: (o, a) => { o.enlarge = bool(a[0], 'enlarge'); },
  quality: (o, a) => { o.quality = quality(a[0]); },
  format: (o, a) => { o.format = format(a[0], 'format'); },
  page: (o, a) => { o.page = parsePage(a[0]); },
};

const ALIASES: Record<string, string> = {
  rs: 'resize', s: 'size', rt: 'resizing_type', w: 'width', h: 'height', el: 'enlarge',
  q: 'quality', f: 'format', ext: 'format', pg: 'page',
};

function applyOption(o: PreviewOptions, segment: string): void {
  const [raw = '', ...args] = segment.split(':');
  const name = ALIASES[raw] ?? raw;
  const handler = OPTIONS[name];
  if (handler === undefined) {
    throw invalidInput(raw, `preview option "${raw}" is not supported; use resize, size, width, height, enlarge, quality, ext (format) or page`);
  }
  handler(o, args, name);
}

/** `<w>:<h>:<enlarge>:<extend>` of resize/size; trailing arguments may be left out. */
function setSize(o: PreviewOptions, args: readonly string[]): void {
  const [w, h, enlarge, extend] = args;
  if (w !== undefined && w !== '') o.width = side(w, 'width');
  if (h !== undefined && h !== '') o.height = side(h, 'height');
  if (enlarge !== undefined && enlarge !== '') o.enlarge = bool(enlarge, 'enlarge');
  if (extend !== undefined && extend !== '' && bool(extend, 'extend')) {
    throw invalidInput('extend', 'preview option extend is not supported: previews are never padded');
  }
}

function setResizeType(o: PreviewOptions, value: string | undefined): void {
  if (value === undefined || value === '') return;
  if (!(RESIZE_TYPES as readonly string[]).includes(value)) {
    throw invalidInput('resize', `resize type "${value}" is not one of ${RESIZE_TYPES.join(', ')}`);
  }
  o.resize = value as ResizeType;
}

/** A side in pixels: `None` (what the SDK sends for an absent one) and 0 mean "derived". */
function side(value: string, field: 'width' | 'height'): number {
  if (value === 'None' || value === '') return 0;
  if (!/^\d{1,9}$/.test(value)) throw invalidInput(field, `${field} must be a whole number of pixels or None, got "${value}"`);
  const n = Number(value);
  if (n > MAX_PREVIEW_SIDE) throw invalidInput(field, `${field} ${n} is larger than ${MAX_PREVIEW_SIDE} pixels`);
  return n;
}

function bool(value: string | undefined, field: string): boolean {
  if (value === undefined || value === '' || value === 'None') return false;
  if (['1', 't', 'true'].includes(value)) return true;
  if (['0', 'f', 'false'].includes(value)) return false;
  throw invalidInput(field, `${field} must be 0 or 1, got "${value}"`);
}

function quality(value: string | undefined): number {
  const n = /^\d{1,3}$/.test(value ?? '') ? Number(value) : NaN;
  if (!(n >= 1 && n <= 100)) throw invalidInput('quality', `quality must be 1-100, got "${value ?? ''}"`);
  return n;
}

function format(value: string | undefined, field: string): PreviewFormat {
  const v = value === 'jpg' ? 'jpeg' : value;
  if (!(PREVIEW_FORMATS as readonly (string | undefined)[]).includes(v)) {
    throw invalidInput(field, `preview format "${value ?? ''}" is not one of ${PREVIEW_FORMATS.join(', ')}`);
  }
  return v as PreviewFormat;
}

/** A page index from a URL (`page:N`), from 0. */
export function parsePage(value: string | undefined): number {
  const n = /^\d{1,6}$/.test(value ?? '') ? Number(value) : NaN;
  if (!(n >= 0 && n <= MAX_PAGE)) throw invalidInput('page', `page must be a whole number from 0, got "${value ?? ''}"`);
  return n;
}

/** Cross-option rules. */
function checked(o: PreviewOptions): PreviewOptions {
  if ((o.resize === 'fill' || o.resize === 'fill-down') && o.width === 0 && o.height === 0) {
    throw invalidInput('width', `resize ${o.resize} needs a width or a height (both are 0)`);
  }
  return o;
}

/** `x200,jpeg,q70`: `<w>x<h>` (either side may be empty), a format and `q<quality>`, in any order; fit, no enlarging. */
function parseLegacy(spec: string, rest: string): PreviewUrl {
  const options = defaultPreviewOptions();
  for (const token of spec.split(',')) {
    const size = /^(\d*)x(\d*)$/.exec(token);
    if (size !== null) {
      options.width = side(size[1] ?? '', 'width');
      options.height = side(size[2] ?? '', 'height');
    } else if (/^q\d+$/.test(token)) {
      options.quality = quality(token.slice(1));
    } else {
      options.format = format(token, 'format');
    }
  }
  const source = rest.startsWith('plain/') ? rest.slice('plain/'.length) : rest;
  return { options, source: requireSource(source) };
}

/**
 * A stable text of everything that changes the output, for cache keys:
 * quality is dropped for PNG (lossless), so `q:70` and `q:80` share one entry.
 */
export function normalizedOptions(o: PreviewOptions, format: PreviewFormat | 'auto'): string {
  const q = format === 'png' ? 0 : o.quality;
  return `f=${format};rt=${o.resize};w=${o.width};h=${o.height};el=${o.enlarge ? 1 : 0};q=${q};pg=${o.page}`;
}
