/**
 * The shared setup of test files that work against radosgw: the gateway, an
 * S3 client on it and a scratch folder, made before the file's tests and
 * closed, stopped and removed after them.
 */
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Store, type S3Store } from '../../../src/storage/providers/s3/index.ts';
import { startRadosgw, type Radosgw } from './radosgw.ts';

/** What {@link withRadosgwS3} hands its test file. */
export interface RadosgwS3 {
  readonly rgw: Radosgw;
  /** An S3 client on the gateway, with the test user's keys. */
  readonly s3: S3Store;
  /** An empty folder of the file's own (named after `scratchPrefix`). */
  readonly scratch: string;
}

/**
 * Registers the file's `before` and `after` hooks; `use` receives the peer
 * once it runs (test files keep it in their own variables).
 */
export function withRadosgwS3(scratchPrefix: string, use: (peer: RadosgwS3) => void): void {
  let rgw: Radosgw | undefined;
  let s3: S3Store | undefined;
  let scratch: string | undefined;
  before(async () => {
    rgw = await startRadosgw();
    s3 = createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey });
    scratch = await mkdtemp(join(tmpdir(), scratchPrefix));
    use({ rgw, s3, scratch });
  });
  after(async () => {
    await s3?.close();
    await rgw?.stop();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });
}
