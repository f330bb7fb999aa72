/**
 * A linked bucket for API tests: a local-disk store under the test app's
 * DATA_PATH, registered as an S3 (`minio`) connection allowing `bucket`, with
 * `files` put in it. Links to it are then `s3://<bucket>/<key>`.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';
import type { TestApp } from './app.ts';

/** Registers the connection `links-<bucket>` and uploads `files` (key → bytes). */
export async function linkBucket(t: TestApp, bucket: string, files: Record<string, Buffer> = {}): Promise<LocalStore> {
  const store = createLocalStore({ root: join(t.dataPath, `linked-${bucket}`) });
  await store.ensureBucket(bucket);
  for (const [key, bytes] of Object.entries(files)) await store.put(bucket, key, Readable.from([bytes]));
  t.app.services.links.set({ name: `links-${bucket}`, provider: 'minio', store, buckets: [bucket] });
  return store;
}
