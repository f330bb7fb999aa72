/**
 * Parsing of converter paths (what follows `/image-converter/`):
 *
 * - `[page:N/]<path>`: a browser-displayable version of an image;
 * - `videoframe/<frame>/<path>[?videoStreamIndex=K]`: one frame of a video.
 *
 * `<path>` is a storage path without its leading `/` (`<bucket>/<key>` or
 * `remote/<scheme>/<bucket>/<key>`), or a bare key of the public bucket,
 * which is what a video's `processingPath` is. Pure; bad parameters are 400s
 * naming them.
 */
import { invalidInput } from '../errors.ts';
import { parsePage } from './preview-url.ts';

/** First segment of converter paths. */
export const CONVERTER_ROOT = 'image-converter';

/** Which frame of a video: by index (from 0), time in seconds, or percent of the duration. */
export type FrameSpec =
  | { kind: 'frame'; frame: number }
  | { kind: 'time'; seconds: number }
  | { kind: 'percent'; percent: number };

/** A parsed converter path. */
export type ConverterUrl =
  | { kind: 'image'; page: number; source: string }
  | { kind: 'videoframe'; frame: FrameSpec; streamIndex: number; source: string };

const MAX_STREAM_INDEX = 63;

/**
 * Parses a converter path (percent-encoded, after `image-converter/`);
 * `query` is the request's query (for `videoStreamIndex`).
 */
export function parseConverterUrl(rest: string, query: Record<string, unknown> = {}): ConverterUrl {
  const segments = rest.split('/');
  if (segments[0] === 'videoframe') {
    const spec = segments[1];
    if (spec === undefined || spec === '') throw invalidInput('frame', 'videoframe: expected /image-converter/videoframe/<frame>/<video path>');
    return { kind: 'videoframe', frame: parseFrameSpec(spec), streamIndex: streamIndex(query['videoStreamIndex']), source: source(segments.slice(2)) };
  }
  const page = /^(?:page|pg):(.*)$/.exec(segments[0] ?? '');
  if (page !== null) return { kind: 'image', page: parsePage(page[1]), source: source(segments.slice(1)) };
  return { kind: 'image', page: 0, source: source(segments) };
}

function source(segments: readonly string[]): string {
  const s = segments.join('/');
  if (s === '' || segments.includes('')) throw invalidInput('path', `converter path: expected a storage path, got "${s}"`);
  return s;
}

/**
 * `12` or `12f`: frame 12 (from 0); `2.5s`: the frame shown at 2.5 s;
 * `33p`: the frame at 33% of the duration (what the SDK's thumbnails ask for).
 */
export function parseFrameSpec(spec: string): FrameSpec {
  const m = /^(\d{1,9}(?:\.\d{1,6})?)([fsp]?)$/.exec(spec);
  const value = m === null ? NaN : Number(m[1]);
  const unit = m?.[2] ?? '';
  if (Number.isNaN(value) || ((unit === 'f' || unit === '') && !Number.isInteger(value))) {
    throw invalidInput('frame', `frame "${spec}" is not a frame number (12), a time in seconds (2.5s) or a percentage (33p)`);
  }
  if (unit === 's') return { kind: 'time', seconds: value };
  if (unit === 'p') {
    if (value > 100) throw invalidInput('frame', `frame "${spec}": a percentage is at most 100`);
    return { kind: 'percent', percent: value };
  }
  return { kind: 'frame', frame: value };
}

function streamIndex(value: unknown): number {
  if (value === undefined || value === '') return 0;
  const n = typeof value === 'string' && /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= MAX_STREAM_INDEX)) throw invalidInput('videoStreamIndex', `videoStreamIndex must be 0-${MAX_STREAM_INDEX}, got ${JSON.stringify(value)}`);
  return n;
}

/** Text of a frame spec for cache keys. */
export function frameKey(f: FrameSpec): string {
  return f.kind === 'frame' ? `f${f.frame}` : f.kind === 'time' ? `s${f.seconds}` : `p${f.percent}`;
}

/**
 * The storage path (no leading `/`) a converter source names: itself when it
 * starts with a bucket or `remote`, else the key in `publicBucket`.
 */
export function converterStoragePath(source: string, buckets: { publicBucket: string; privateBucket: string }, remoteRoot: string): string {
  const root = source.slice(0, source.indexOf('/'));
  if (root === buckets.publicBucket || root === buckets.privateBucket || root === remoteRoot) return source;
  return `${buckets.publicBucket}/${source}`;
}
