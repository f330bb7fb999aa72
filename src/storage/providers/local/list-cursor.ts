/**
 * Resume positions of a listing: `startAfter` and continuation tokens.
 *
 * A token is `base64url("k" + key)` after a page that ended on an object, or
 * `base64url("p" + prefix)` after one that ended on a common prefix, in which
 * case every key under that prefix is skipped too. Tokens carry no state on the
 * server, so they stay valid across restarts and store instances.
 */
import { localError, type ErrorContext } from './fs-errors.ts';

/** Kind of the last item of a page. */
export type TokenKind = 'object' | 'prefix';

/** A decoded continuation token. */
export interface Token {
  readonly kind: TokenKind;
  readonly key: string;
}

/** Which keys (and folders) lie past the resume position. */
export interface Cursor {
  /** Whether `key` comes after the position. */
  passes(key: string): boolean;
  /** Whether a folder whose keys all start with `dirKey` (ending in `/`) may hold such keys. */
  mayContain(dirKey: string): boolean;
}

/** Encodes the resume position after an item. */
export function encodeToken(kind: TokenKind, key: string): string {
  return Buffer.from((kind === 'object' ? 'k' : 'p') + key, 'utf8').toString('base64url');
}

/** Decodes a token from {@link encodeToken}; anything else is `InvalidKey`. */
export function decodeToken(token: string, ctx: ErrorContext): Token {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const tag = text[0];
  const key = text.slice(1);
  if ((tag !== 'k' && tag !== 'p') || key === '' || encodeToken(tag === 'k' ? 'object' : 'prefix', key) !== token) {
    throw localError('InvalidKey', 'invalid continuation token', ctx);
  }
  return { kind: tag === 'k' ? 'object' : 'prefix', key };
}

/** Byte-order (UTF-8) comparison, as S3 sorts keys. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The cursor for `startAfter` and/or a token (the later of the two wins). */
export function makeCursor(startAfter: string | undefined, token: Token | undefined): Cursor {
  const candidates = [startAfter, token?.key].filter((k): k is string => k !== undefined && k !== '');
  const after = candidates.sort(compareKeys).at(-1);
  const afterBytes = after === undefined ? undefined : Buffer.from(after, 'utf8');
  const skip = token?.kind === 'prefix' ? token.key : undefined;
  return {
    passes(key) {
      if (skip !== undefined && key.startsWith(skip)) return false;
      return afterBytes === undefined || Buffer.compare(Buffer.from(key, 'utf8'), afterBytes) > 0;
    },
    mayContain(dirKey) {
      if (skip !== undefined && dirKey.startsWith(skip)) return false;
      if (after === undefined || after.startsWith(dirKey)) return true;
      // Every key below starts with dirKey; if `after` already sorts past dirKey
      // without being inside it, it sorts past all of them.
      return compareKeys(after, dirKey) < 0;
    },
  };
}
