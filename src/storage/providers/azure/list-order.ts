/**
 * Ordering helpers of Azure listings. Azure (and Azurite) list names in UTF-16
 * code-unit order; the contract wants UTF-8 byte (= code point) order. The two
 * differ only where one name has an astral character (a surrogate pair) and
 * another a character in U+E000–U+FFFF at the same position: UTF-16 puts the
 * astral one first, UTF-8 last. See list.ts for how pages stay correct.
 */
import { azureError } from './azure-errors.ts';

/** Where a listing resumes: after `key` (UTF-8 order), which was a common prefix when `prefix`. */
export interface Cursor {
  readonly key: string;
  readonly prefix: boolean;
}

/** A decoded continuation token: the Azure marker of the page to re-read, and the cursor. */
export interface ListToken {
  readonly marker: string | undefined;
  readonly after: Cursor;
  /** The marker starts a run that must be read again to its end (so: read large pages). */
  readonly inRun: boolean;
}

/** UTF-8 byte order of two names. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Azure's own (UTF-16 code unit) order, used to merge blobs and prefixes of one page. */
export function compareServer(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/**
 * The part of `name` before its first high surrogate at or after `from` (the
 * listing prefix cannot differ between names), or undefined. A later name
 * sharing that part and continuing with U+E000–U+FFFF sorts before `name` in
 * UTF-8 order although Azure lists it after.
 */
export function blockingPrefix(name: string, from: number): string | undefined {
  for (let i = from; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) return name.slice(0, i);
  }
  return undefined;
}

/** Longest common prefix of two strings. */
export function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return a.slice(0, i);
}

/** The later of `startAfter` and the token's cursor; on a tie the token's (it knows if it was a prefix). */
export function laterCursor(startAfter: string | undefined, token: Cursor | undefined): Cursor | undefined {
  const start = startAfter === undefined || startAfter === '' ? undefined : { key: startAfter, prefix: false };
  if (start === undefined) return token;
  if (token === undefined) return start;
  return compareUtf8(start.key, token.key) > 0 ? start : token;
}

/** Encodes a continuation token; opaque to callers, stateless on our side. */
export function encodeListToken(token: ListToken): string {
  const body = { v: 1, m: token.marker, a: token.after.key, p: token.after.prefix, r: token.inRun };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Decodes {@link encodeListToken}; anything else is `InvalidKey`. */
export function decodeListToken(token: string, bucket: string): ListToken {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    body = undefined;
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const marker = b['m'];
  const valid = b['v'] === 1 && typeof b['a'] === 'string' && typeof b['p'] === 'boolean' && typeof b['r'] === 'boolean';
  if (!valid || (marker !== undefined && typeof marker !== 'string')) {
    throw azureError('InvalidKey', 'invalid continuation token', { bucket });
  }
  return { marker, after: { key: b['a'] as string, prefix: b['p'] as boolean }, inRun: b['r'] as boolean };
}
