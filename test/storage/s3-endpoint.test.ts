/** Endpoint resolution and settings validation of the S3 provider (no peer needed). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createS3Store, describeS3Endpoint, type S3StoreOptions } from '../../src/storage/providers/s3/index.ts';
import { isStorageError } from '../../src/storage/errors.ts';

const keys = { accessKey: 'AKIDEXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function configInvalid(options: S3StoreOptions, pattern: RegExp): void {
  assert.throws(() => createS3Store(options), (err: unknown) => {
    assert.ok(isStorageError(err, 'ConfigInvalid'), String(err));
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes(keys.secretKey) && !err.message.includes('hunter2'), err.message);
    return true;
  });
}

describe('describeS3Endpoint', () => {
  const cases: [S3StoreOptions, string][] = [
    [{ endpoint: 's3.amazonaws.com' }, 'https://s3.amazonaws.com'],
    [{ endpoint: 's3.amazonaws.com', port: 443 }, 'https://s3.amazonaws.com'],
    [{ endpoint: 'minio.internal', port: 9000 }, 'http://minio.internal:9000'],
    [{ endpoint: 'minio.internal:9000' }, 'http://minio.internal:9000'],
    [{ endpoint: 'minio.internal', port: 80 }, 'http://minio.internal'],
    [{ endpoint: 'http://127.0.0.1' }, 'http://127.0.0.1'],
    [{ endpoint: 'http://127.0.0.1', port: 7480 }, 'http://127.0.0.1:7480'],
    [{ endpoint: 'http://127.0.0.1:7480', port: 9000 }, 'http://127.0.0.1:7480'],
    [{ endpoint: 'https://storage.example.com/' }, 'https://storage.example.com'],
    [{ endpoint: 'https://gateway.example.com/s3/' }, 'https://gateway.example.com/s3'],
    [{ endpoint: '[::1]', port: 9000 }, 'http://[::1]:9000'],
    [{ endpoint: '  ', region: 'eu-west-1' }, 'https://s3.eu-west-1.amazonaws.com'],
    [{}, 'https://s3.us-east-1.amazonaws.com'],
  ];
  for (const [options, expected] of cases) {
    it(`${JSON.stringify(options)} → ${expected}`, () => {
      assert.equal(describeS3Endpoint(options), expected);
    });
  }
});

describe('createS3Store settings', () => {
  it('uses path-style URLs for any endpoint but AWS, unless told otherwise', async () => {
    const stores = [
      createS3Store({ ...keys, endpoint: 'http://127.0.0.1:7480' }),
      createS3Store({ ...keys, endpoint: 's3.amazonaws.com', port: 443 }),
      createS3Store({ ...keys, endpoint: 's3.eu-central-1.amazonaws.com' }),
      createS3Store({ ...keys, endpoint: 'minio.internal', forcePathStyle: false }),
    ];
    assert.deepEqual(stores.map((s) => s.client.config.forcePathStyle), [true, false, false, false]);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('hands the resolved endpoint and region to the SDK, with no SDK retries', async () => {
    const store = createS3Store({ ...keys, endpoint: 'minio.internal', port: 9000, region: 'eu-west-3' });
    const endpoint = await store.client.config.endpoint?.();
    assert.deepEqual([endpoint?.protocol, endpoint?.hostname, endpoint?.port], ['http:', 'minio.internal', 9000]);
    assert.equal(await store.client.config.region(), 'eu-west-3');
    assert.equal(await store.client.config.maxAttempts(), 1);
    assert.equal(store.endpoint, 'http://minio.internal:9000');
    assert.equal(store.provider, 'minio');
    await store.close();
  });

  it('reports capabilities without presigned URLs (no presigner installed)', async () => {
    const store = createS3Store({ ...keys, endpoint: 'http://127.0.0.1:1' });
    assert.deepEqual({ ...store.capabilities }, {
      multipart: true, serverSideCopy: true, conditionalPut: true, presignedUrls: false, maxObjectSize: 5 * 1024 ** 4,
    });
    await store.close();
  });

  it('refuses unusable settings with ConfigInvalid, never echoing secrets', () => {
    configInvalid({ endpoint: 'http://127.0.0.1:7480' }, /STORAGE_ACCESS_KEY and STORAGE_SECRET_KEY/u);
    configInvalid({ endpoint: 'http://127.0.0.1:7480', accessKey: keys.accessKey }, /STORAGE_SECRET_KEY/u);
    configInvalid({ ...keys, endpoint: 'http://127.0.0.1', iamRole: 'role' }, /either STORAGE_IAM_ROLE or/u);
    configInvalid({ ...keys, endpoint: 'ftp://files.example.com' }, /http:\/\/ or https:\/\//u);
    configInvalid({ ...keys, endpoint: 'http://admin:hunter2@minio.internal' }, /must not contain credentials/u);
    configInvalid({ ...keys, endpoint: 'exa mple.com' }, /not a valid host name or URL/u);
    configInvalid({ ...keys, endpoint: 'minio.internal', port: 70_000 }, /STORAGE_PORT/u);
    configInvalid({ ...keys, endpoint: 'minio.internal', partSizeBytes: 1024 }, /partSizeBytes/u);
  });
});
