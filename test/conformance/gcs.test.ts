/**
 * The shared conformance suite against firebase-tools' Cloud Storage emulator.
 *
 * The emulator serves the JSON API without the `/storage/v1` prefix for some
 * routes (copy, metadata patch), which the SDK only uses when
 * `STORAGE_EMULATOR_HOST` is set: this test process sets it (and the store's
 * endpoint to the same URL). The emulator checks no credentials, lacks compose
 * (multipart falls back to streaming the parts) and ignores `ifGenerationMatch`
 * (the store's existence check answers): those paths have focused tests in
 * test/storage/gcs-*.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { createGcsStore } from '../../src/storage/providers/gcs/index.ts';
import { startGcsEmulator } from '../helpers/peers/gcs-emulator.ts';
import { describeObjectStoreConformance, twoBuckets } from './object-store-suite.ts';

describeObjectStoreConformance('google cloud storage (firebase-tools emulator)', async () => {
  const emulator = await startGcsEmulator();
  process.env['STORAGE_EMULATOR_HOST'] = emulator.endpoint;
  const store = createGcsStore({ endpoint: emulator.endpoint, projectId: 'demo-test' });
  return twoBuckets(store, `conformance-${randomUUID().slice(0, 8)}`, async () => {
    await emulator.stop();
    delete process.env['STORAGE_EMULATOR_HOST'];
  });
});
