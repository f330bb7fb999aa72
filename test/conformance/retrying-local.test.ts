import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { withRetries } from '../../src/storage/retrying-store.ts';
import { describeObjectStoreConformance, twoBuckets } from './object-store-suite.ts';

// The retry layer must keep every behaviour of the store it wraps.
describeObjectStoreConformance('retry layer over local disk', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-conformance-retry-'));
  const store = withRetries(createLocalStore({ root }), { sleep: async () => undefined });
  return twoBuckets(store, 'conformance', () => rm(root, { recursive: true, force: true }));
});
