import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore } from '../../src/storage/providers/fs/index.ts';
import { describeObjectStoreConformance } from './object-store-suite.ts';

// A writable fs connection must behave like any bucket (remote-storage.upload to fs:// relies on it);
// the read-only default is covered by test/storage/fs-store.test.ts.
describeObjectStoreConformance('host folders (fs, writable)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-conformance-fs-'));
  const folders = { conformance: join(root, 'datasets'), 'conformance-other': join(root, 'other', 'place') };
  for (const folder of Object.values(folders)) await mkdir(folder, { recursive: true });
  const store = createFsStore({ folders, writable: true, name: 'conformance' });
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
