import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectStore } from './object-store.ts';
import { isStorageError } from './errors.ts';

/** The operations checked on each bucket. */
export const ACCESS_OPERATIONS = ['write', 'read', 'list', 'multipart', 'delete'] as const;
export type AccessOperation = (typeof ACCESS_OPERATIONS)[number];

/** `ok`, `skipped` (not applicable), or the failure. */
export type AccessResult = { ok: true } | { ok: false; skipped: true } | { ok: false; skipped?: false; kind: string; message: string };

/** One bucket's results. */
export interface BucketAccess {
  bucket: string;
  results: Record<AccessOperation, AccessResult>;
}

const OK: AccessResult = { ok: true };
const SKIPPED: AccessResult = { ok: false, skipped: true };
// Probes live under one prefix so an operator can spot (and a lifecycle rule can expire) leftovers.
const PROBE_PREFIX = '.stowage-check/';

async function attempt(fn: () => Promise<unknown>): Promise<AccessResult> {
  try {
    await fn();
    return OK;
  } catch (err) {
    const kind = isStorageError(err) ? err.kind : 'Internal';
    return { ok: false, kind, message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Checks that `bucket` can be written, read, listed, used for multipart
 * uploads (when `multipart`) and deleted from, with a small probe object.
 * Never throws: every failure is reported in the result.
 */
export async function checkBucketAccess(store: ObjectStore, bucket: string, opts: { multipart: boolean }): Promise<BucketAccess> {
  const key = `${PROBE_PREFIX}${randomUUID()}`;
  const body = Buffer.from('stowage access check\n');
  const write = await attempt(() => store.put(bucket, key, Readable.from([body]), { size: body.length, contentType: 'text/plain' }));
  const read = write.ok ? await attempt(async () => {
    const got = await store.get(bucket, key);
    for await (const _ of got.body) { /* drain */ }
  }) : write;
  const list = await attempt(() => store.list(bucket, { prefix: PROBE_PREFIX, maxKeys: 1 }));
  const multipart = opts.multipart ? await attempt(() => multipartProbe(store, bucket, `${key}-mp`)) : SKIPPED;
  const del = write.ok ? await attempt(() => store.delete(bucket, key)) : await attempt(() => store.delete(bucket, `${key}-none`));
  return { bucket, results: { write, read, list, multipart, delete: del } };
}

async function multipartProbe(store: ObjectStore, bucket: string, key: string): Promise<void> {
  const upload = await store.createMultipart(bucket, key);
  try {
    const data = Buffer.from('part');
    const part = await upload.uploadPart(1, Readable.from([data]), data.length);
    await upload.complete([part]);
  } catch (err) {
    await upload.abort().catch(() => undefined);
    throw err;
  }
  await store.delete(bucket, key);
}

/** True when every applicable operation succeeded. */
export function accessOk(a: BucketAccess): boolean {
  return Object.values(a.results).every((r) => r.ok || r.skipped === true);
}

/** One line per failed operation, e.g. `bucket x: write failed (PermissionDenied: …)`. */
export function accessFailures(a: BucketAccess): string[] {
  return ACCESS_OPERATIONS.flatMap((op) => {
    const r = a.results[op];
    return r.ok || r.skipped === true ? [] : [`bucket ${a.bucket}: ${op} failed (${r.kind}: ${r.message})`];
  });
}
