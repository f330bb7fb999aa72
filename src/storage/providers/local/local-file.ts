/**
 * `localFile` of the local store: the real path of an object's file and its
 * first bytes, for readers that open files themselves (sharp, ffmpeg) and
 * sniff the head first. The steps run on the event loop while the disk
 * answers fast, else in the thread pool (see sync-gate.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { LocalFile } from '../../object-store.ts';
import { missingObject, type ErrorContext } from './fs-errors.ts';
import { READ_OBJECT_FLAGS } from './file-io.ts';
import type { LocalLayout } from './paths.ts';
import { DEFAULT_SYNC_BUDGET_MS, OVERRUNS_TO_CLOSE, RUNS_WATCHED, SyncGate } from './sync-gate.ts';

/**
 * The object's file and its first `headBytes` bytes (fewer when it is shorter).
 * Errors are raw (errno or StorageError): the store's guard translates them.
 */
export function localFileOf(layout: LocalLayout, gate: SyncGate, ctx: { readonly bucket: string; readonly key: string }, headBytes: number): Promise<LocalFile> {
  const { bucket, key } = ctx;
  return gate.run(
    () => readHeadSync(layout.objectPathSync(layout.bucketDirSync(bucket), key, ctx), headBytes, ctx),
    async () => readHead(await layout.objectPath(await layout.bucketDir(bucket), key, ctx), headBytes, ctx),
  );
}

/**
 * The gate of a store's `localFile` steps (`budgetMs`: see
 * `LocalStoreOptions.syncBudgetMs`); `onSlowDisk` hears, in words for an
 * operator, each time the steps move to the thread pool.
 */
export function localFileGate(root: string, budgetMs: number | undefined, onSlowDisk: ((message: string) => void) | undefined): SyncGate {
  const budget = budgetMs ?? DEFAULT_SYNC_BUDGET_MS;
  const onClose = onSlowDisk === undefined ? undefined : (pauseMs: number) => onSlowDisk(
    `local disk ${root} is slow: ${OVERRUNS_TO_CLOSE} of the last ${RUNS_WATCHED} reads of an original's head took over ${budget} ms; ` +
    `they run in the thread pool for the next ${Math.round(pauseMs / 1000)} s (previews are slower meanwhile; nothing fails)`);
  return new SyncGate({ budgetMs: budget, onClose });
}

function readHeadSync(path: string, headBytes: number, ctx: ErrorContext): LocalFile {
  const fd = openSync(path, READ_OBJECT_FLAGS);
  try {
    if (!fstatSync(fd).isFile()) throw missingObject(ctx);
    const head = Buffer.allocUnsafe(headBytes);
    return { path, head: head.subarray(0, headBytes === 0 ? 0 : readSync(fd, head, 0, headBytes, 0)) };
  } finally {
    closeSync(fd);
  }
}

async function readHead(path: string, headBytes: number, ctx: ErrorContext): Promise<LocalFile> {
  const fh = await open(path, READ_OBJECT_FLAGS);
  try {
    if (!(await fh.stat()).isFile()) throw missingObject(ctx);
    if (headBytes === 0) return { path, head: Buffer.alloc(0) };
    const { buffer, bytesRead } = await fh.read(Buffer.allocUnsafe(headBytes), 0, headBytes, 0);
    return { path, head: buffer.subarray(0, bytesRead) };
  } finally {
    await fh.close();
  }
}
