import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { withRetries } from '../../src/storage/retrying-store.ts';
import { describeObjectStoreConformance } from './object-store-suite.ts';

// The retry layer must keep every behaviour of the store it wraps.
describeObjectStoreConformance('retry layer over local disk', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-conformance-retry-'));
  const inner = createLocalStore({ root });
  await inner.ensureBucket('conformance');
  await inner.ensureBucket('conformance-other');
  const store = withRetries(inner, { sleep: async () => undefined });
  return {
    store,
    bucket: 'conformance',
    otherBucket: 'conformance-other',
    async cleanup() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});
