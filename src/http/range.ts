import { AppError } from '../errors.ts';

/** An inclusive byte range resolved against a known size. */
export interface ResolvedRange {
  start: number;
  end: number;
}

/**
 * Parses a single-range `Range` header against `size`. Returns undefined when
 * the header is absent, multi-range or not in bytes (the full body is served
 * then, as RFC 9110 allows); throws `RangeNotSatisfiable` when it cannot be met.
 */
export function parseRange(header: string | undefined, size: number): ResolvedRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): AppError {
  return new AppError('RangeNotSatisfiable', `range not satisfiable: the object has ${size} bytes`, { size });
}
