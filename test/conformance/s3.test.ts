import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import { createS3Store } from '../../src/storage/providers/s3/index.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { describeObjectStoreConformance, twoBuckets } from './object-store-suite.ts';

let rgw: Radosgw | undefined;
before(async () => {
  rgw = await startRadosgw();
});
after(async () => {
  await rgw?.stop();
});

describeObjectStoreConformance('S3 (Ceph radosgw)', async () => {
  const peer = await startRadosgw();
  const store = createS3Store({ endpoint: peer.endpoint, accessKey: peer.accessKey, secretKey: peer.secretKey });
  return twoBuckets(store, `conformance-${randomUUID().slice(0, 8)}`);
});
