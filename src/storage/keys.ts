/**
 * Validation of object keys and bucket names, shared by every provider so a key
 * accepted by one store is accepted by all of them (and maps safely onto a
 * filesystem path for the local store).
 */
import { StorageError } from './errors.ts';

/** Longest key accepted, in UTF-8 bytes (the S3 limit). */
export const MAX_KEY_BYTES = 1024;

// C0 controls (incl. NUL), DEL and C1 controls: invisible in logs and UIs, and
// NUL cannot be part of a file name.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/u;
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/u;

/**
 * Why `key` is not acceptable, or `undefined` when it is.
 * Kept separate from {@link validateKey} so hot paths (listing) avoid throwing.
 */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'is empty';
  // A lone surrogate cannot be encoded to UTF-8 and back, so it would not round-trip.
  if (!key.isWellFormed()) return 'is not well-formed Unicode';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  if (key.startsWith('/')) return 'starts with "/"';
  if (key.endsWith('/')) return 'ends with "/"';
  if (key.includes('\\')) return 'contains a backslash';
  if (CONTROL_CHARS.test(key)) return 'contains a NUL or control character';
  for (const segment of key.split('/')) {
    if (segment === '') return 'contains an empty segment ("//")';
    if (segment === '.' || segment === '..') return `contains a "${segment}" segment`;
  }
  return undefined;
}

/** True when `key` passes {@link validateKey}. */
export function isValidKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/**
 * Throws a `StorageError` of kind `InvalidKey` unless `key` is a safe object key:
 * non-empty, well-formed Unicode, at most 1024 UTF-8 bytes, no leading or
 * trailing `/`, no backslash, NUL or control character, and no empty, `.` or
 * `..` segment.
 */
export function validateKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) {
    throw new StorageError('InvalidKey', `Invalid object key ${JSON.stringify(key)}: it ${problem}`, { key });
  }
}

/** True when `name` passes {@link validateBucket}. */
export function isValidBucket(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..');
}

/**
 * Throws a `StorageError` of kind `InvalidKey` unless `name` is a valid bucket
 * name: 3–63 characters of lowercase letters, digits, `-`, `.` and `_`,
 * starting and ending with a letter or digit, without `..` (S3-like rules, which
 * also make the name a safe single folder name).
 */
export function validateBucket(name: string): void {
  if (!isValidBucket(name)) {
    throw new StorageError(
      'InvalidKey',
      `Invalid bucket name ${JSON.stringify(name)}: use 3-63 lowercase letters, digits, "-", "." or "_", starting and ending with a letter or digit`,
      { bucket: name },
    );
  }
}
