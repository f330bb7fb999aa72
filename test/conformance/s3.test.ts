import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import { createS3Store } from '../../src/storage/providers/s3/index.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { describeObjectStoreConformance } from './object-store-suite.ts';

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
  const id = randomUUID().slice(0, 8);
  const bucket = `conformance-${id}`;
  const otherBucket = `conformance-other-${id}`;
  await store.ensureBucket(bucket);
  await store.ensureBucket(otherBucket);
  return {
    store,
    bucket,
    otherBucket,
    async cleanup() {
      await store.close();
    },
  };
});
