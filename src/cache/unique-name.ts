/**
 * Unique names for cache fills (temp files, entry files) without a call into
 * the system's random generator per fill: a random tag drawn once per
 * process, and a counter. Two processes sharing a cache folder (servers, the
 * CLI) draw different tags.
 */
import { randomBytes } from 'node:crypto';

const PROCESS_TAG = randomBytes(6).toString('hex');
let counter = 0;

/** A suffix no other call in any process returns (12 hex digits of tag, then a base-36 counter). */
export function uniqueSuffix(): string {
  counter += 1;
  return `${PROCESS_TAG}${counter.toString(36)}`;
}
