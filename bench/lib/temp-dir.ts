import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Root for benchmark scratch folders: BENCH_TMPDIR, else the OS temp folder. */
export function benchTmpRoot(): string {
  return process.env['BENCH_TMPDIR'] ?? tmpdir();
}

/** A fresh folder for one benchmark run. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(benchTmpRoot(), `stowage-bench-${prefix}-`));
}

/** Removes a scratch folder unless BENCH_KEEP=1 asks to keep it for inspection. */
export async function removeTempDir(dir: string): Promise<void> {
  if (process.env['BENCH_KEEP'] === '1') {
    process.stdout.write(`  (kept ${dir} because BENCH_KEEP=1)\n`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
}
