/**
 * IAM-role credentials (STORAGE_IAM_ROLE): the store gets them from a fake
 * IMDSv2 through the SDK's real `fromInstanceMetadata`, and they sign real
 * requests to radosgw (which ignores the session token). Key rotation proves
 * refresh: once the served credentials expire, the old key pair is deleted in
 * radosgw, so any request that still succeeds was signed with the new pair.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';
import { isStorageError } from '../../src/storage/errors.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { startImds, type FakeImds, type ImdsCredentials } from '../helpers/peers/imds.ts';
import { gatedBody } from '../helpers/gated-body.ts';

const MiB = 1024 * 1024;
// The SDK treats credentials as expired 5 minutes before their Expiration
// (@smithy/core EXPIRATION_MS); served ones are valid for VALID_MS beyond that.
const SDK_REFRESH_MARGIN_MS = 300_000;
const VALID_MS = 1500;
const ROLE = 'stowage-test-role';
const USER = 'iam-role-user';

interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

function newKeyPair(): KeyPair {
  return { accessKeyId: `IAM${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('hex') };
}

/** What the fake IMDS serves, and the latest expiry it handed out per key. */
class RoleCredentials {
  current: KeyPair = newKeyPair();
  readonly expiries = new Map<string, number>();

  issue = (): ImdsCredentials => {
    const expiration = Date.now() + SDK_REFRESH_MARGIN_MS + VALID_MS;
    this.expiries.set(this.current.accessKeyId, expiration);
    return { ...this.current, token: `session-${randomUUID()}`, expiration: new Date(expiration) };
  };

  /** Waits until the SDK must consider every credential of `pair` expired. */
  async outlive(pair: KeyPair): Promise<void> {
    const refreshAt = (this.expiries.get(pair.accessKeyId) ?? 0) - SDK_REFRESH_MARGIN_MS;
    await sleep(Math.max(0, refreshAt - Date.now()) + 50);
  }
}

let rgw: Radosgw;
let imds: FakeImds;
let store: S3Store;
const role = new RoleCredentials();
const bucket = `iam-${randomUUID().slice(0, 8)}`;
const savedEndpoint = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;

/** Replaces the role's key pair in radosgw and IMDS; the old pair stays valid until `retire`. */
async function rotate(): Promise<KeyPair> {
  const old = role.current;
  const next = newKeyPair();
  await rgw.admin('key', 'create', `--uid=${USER}`, '--key-type=s3', `--access-key=${next.accessKeyId}`, `--secret-key=${next.secretAccessKey}`);
  role.current = next;
  return old;
}

async function retire(pair: KeyPair): Promise<void> {
  await role.outlive(pair);
  await rgw.admin('key', 'rm', `--uid=${USER}`, '--key-type=s3', `--access-key=${pair.accessKeyId}`);
}

/** A store signing with a fixed key pair, to show a retired pair is really refused. */
async function assertRefused(pair: KeyPair): Promise<void> {
  const fixed = createS3Store({ endpoint: rgw.endpoint, accessKey: pair.accessKeyId, secretKey: pair.secretAccessKey });
  try {
    await assert.rejects(fixed.list(bucket), (err: unknown) => isStorageError(err, 'Unauthenticated'));
  } finally {
    await fixed.close();
  }
}

before(async () => {
  rgw = await startRadosgw();
  const { accessKeyId, secretAccessKey } = role.current;
  await rgw.admin('user', 'create', `--uid=${USER}`, `--display-name=${USER}`, `--access-key=${accessKeyId}`, `--secret=${secretAccessKey}`);
  imds = await startImds({ roleName: ROLE, credentials: role.issue });
  // fromInstanceMetadata takes no endpoint option; this variable is its documented override.
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
  store = createS3Store({ endpoint: rgw.endpoint, iamRole: ROLE, partSizeBytes: 5 * MiB });
});

after(async () => {
  await store?.close();
  await imds?.close();
  if (savedEndpoint === undefined) delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  else process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = savedEndpoint;
  await rgw?.stop();
});

describe('S3 store with an IAM role (IMDSv2)', () => {
  it('signs requests with credentials fetched through IMDSv2', async () => {
    await store.ensureBucket(bucket);
    await store.put(bucket, 'hello.txt', Readable.from([Buffer.from('hi')]), { size: 2 });
    assert.equal((await store.head(bucket, 'hello.txt')).size, 2);
    assert.ok(imds.tokenHits >= 1, 'no IMDSv2 session token was requested');
    assert.ok(imds.credentialHits >= 1, 'no credentials were fetched from IMDS');
    assert.equal(imds.unauthorizedHits, 0, 'the SDK fell back to IMDSv1');
    assert.equal(imds.served[0], role.current.accessKeyId);
  });

  it('refreshes expired credentials in the middle of a multipart upload', async () => {
    const key = 'rotated/multipart.bin';
    const upload = await store.createMultipart(bucket, key);
    const first = await upload.uploadPart(1, Readable.from([Buffer.alloc(5 * MiB, 1)]), 5 * MiB);
    const hits = imds.credentialHits;
    const old = await rotate();
    await retire(old);
    const second = await upload.uploadPart(2, Readable.from([Buffer.from('tail')]), 4);
    const info = await upload.complete([first, second]);
    assert.equal(info.size, 5 * MiB + 4);
    assert.ok(imds.credentialHits > hits, 'the SDK did not go back to IMDS after the credentials expired');
    assert.equal(imds.served.at(-1), role.current.accessKeyId);
    await assertRefused(old);
  });

  it('keeps a streamed upload of unknown length working across an expiry', async () => {
    const key = 'rotated/streamed.bin';
    const { body, release } = gatedBody(Buffer.alloc(6 * MiB, 2), Buffer.alloc(6 * MiB, 3));
    const put = store.put(bucket, key, body);
    await partsUploaded(key, 1);
    const old = await rotate();
    await retire(old);
    release();
    const info = await put;
    assert.equal(info.size, 12 * MiB);
    assert.equal((await store.head(bucket, key)).size, 12 * MiB);
    assert.equal(imds.served.at(-1), role.current.accessKeyId);
    await assertRefused(old);
  });

  it('reports an unreachable metadata service as Unavailable, naming the role', async () => {
    const closed = await startImds({ roleName: ROLE, credentials: role.issue });
    await closed.close();
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = closed.endpoint;
    const orphan = createS3Store({ endpoint: rgw.endpoint, iamRole: ROLE });
    try {
      await assert.rejects(orphan.list(bucket), (err: unknown) => {
        assert.ok(isStorageError(err, 'Unavailable'), String(err));
        assert.match(err.message, /IAM role stowage-test-role/u);
        return true;
      });
    } finally {
      process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
      await orphan.close();
    }
  });
});

/** Waits (polling the store's own listing) until `count` parts of the upload at `key` are stored. */
async function partsUploaded(key: string, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const uploads = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    const id = uploads.Uploads?.find((u) => u.Key === key)?.UploadId;
    if (id !== undefined) {
      const parts = await store.client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id }));
      if ((parts.Parts?.length ?? 0) >= count) return;
    }
    await sleep(50);
  }
  throw new Error(`part ${count} of ${key} was never uploaded`);
}
