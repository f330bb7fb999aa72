import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskCache } from '../../src/cache/disk-cache.ts';
import { withCache } from '../../src/cache/caching-store.ts';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { describeObjectStoreConformance, twoBuckets } from './object-store-suite.ts';

// The cache layer must keep every behaviour of the store it wraps. Stowage never
// caches local disk; local disk is only the quickest store to wrap here.
describeObjectStoreConformance('cache layer over local disk', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-conformance-cached-'));
  const cache = await DiskCache.open({ dir: join(root, 'cache'), maxBytes: 256 * 1024 * 1024, maxAgeMs: 3_600_000, name: 'storage' });
  const store = withCache(createLocalStore({ root: join(root, 'storage') }), cache, { scope: 'conformance', rangePassThroughBytes: 1024 * 1024 });
  return twoBuckets(store, 'conformance', async () => {
    await cache.close();
    await rm(root, { recursive: true, force: true });
  });
});
