import { statfs } from 'node:fs/promises';

/** Bytes available to us on the filesystem holding `path`. */
export async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}

/** Fails early, with the numbers, when a benchmark would fill the disk. */
export async function requireFreeBytes(path: string, needed: number, what: string): Promise<void> {
  const free = await freeBytes(path);
  if (free < needed) {
    const gib = (n: number) => (n / 2 ** 30).toFixed(1);
    throw new Error(`${what} needs ${gib(needed)} GiB free under ${path}, only ${gib(free)} GiB is; set BENCH_TMPDIR to a larger disk or lower the size`);
  }
}
