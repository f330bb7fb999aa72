import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskCache } from '../../src/cache/disk-cache.ts';
import { withCache } from '../../src/cache/caching-store.ts';
import { createS3Store } from '../../src/storage/providers/s3/index.ts';
import { withRetries } from '../../src/storage/retrying-store.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { describeObjectStoreConformance, twoBuckets } from './object-store-suite.ts';

let rgw: Radosgw | undefined;
before(async () => {
  rgw = await startRadosgw();
});
after(async () => {
  await rgw?.stop();
});

// As Stowage wires a cloud store: the cache layer over the retry layer over S3.
describeObjectStoreConformance('cache layer over S3 (Ceph radosgw)', async () => {
  const peer = await startRadosgw();
  const dir = await mkdtemp(join(tmpdir(), 'stowage-conformance-cached-s3-'));
  const cache = await DiskCache.open({ dir, maxBytes: 256 * 1024 * 1024, maxAgeMs: 3_600_000, name: 'storage' });
  const s3 = createS3Store({ endpoint: peer.endpoint, accessKey: peer.accessKey, secretKey: peer.secretKey });
  const store = withCache(withRetries(s3, { sleep: async () => undefined }), cache, { scope: 'primary', rangePassThroughBytes: 1024 * 1024 });
  return twoBuckets(store, `conformance-${randomUUID().slice(0, 8)}`, async () => {
    await cache.close();
    await rm(dir, { recursive: true, force: true });
  });
});
