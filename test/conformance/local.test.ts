import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { describeObjectStoreConformance } from './object-store-suite.ts';

describeObjectStoreConformance('local disk (http)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-conformance-local-'));
  const store = createLocalStore({ root });
  await store.ensureBucket('conformance');
  await store.ensureBucket('conformance-other');
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
