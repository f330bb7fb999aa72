import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { describeObjectStoreConformance, twoBuckets } from './object-store-suite.ts';

describeObjectStoreConformance('local disk (http)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-conformance-local-'));
  const store = createLocalStore({ root });
  return twoBuckets(store, 'conformance', () => rm(root, { recursive: true, force: true }));
});
