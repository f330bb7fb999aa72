/** Byte ranges of Azure downloads: our inclusive ranges to offset/count, and `Content-Range` back. */
import type { ByteRange } from '../../object-store.ts';
import { azureError } from './azure-errors.ts';

/** What to ask Azure for: `count` undefined means "to the end". */
export interface DownloadWindow {
  readonly offset: number;
  readonly count: number | undefined;
}

/** Checks a requested range (`InvalidRange` when malformed) and converts it for `download`. */
export function resolveRange(range: ByteRange, ctx: { bucket: string; key: string }): DownloadWindow {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw azureError('InvalidRange', `malformed range ${start}-${end ?? ''}`, ctx);
  }
  return { offset: start, count: end === undefined ? undefined : end - start + 1 };
}

/** `bytes START-END/TOTAL` parsed, or undefined when absent or of another form. */
export function parseContentRange(header: string | undefined): { start: number; end: number; total: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/u.exec(header?.trim() ?? '');
  if (match === null) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: Number(match[3]) };
}
