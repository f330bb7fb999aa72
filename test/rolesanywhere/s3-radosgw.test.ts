/**
 * S3 stores with IAM Roles Anywhere credentials against radosgw: the fake
 * CreateSession endpoint hands out the key pairs of a radosgw user (radosgw
 * accepts and ignores the session token), so every S3 request that succeeds
 * was signed with credentials the fake issued. Renewal is proven by rotation:
 * the clock is moved into the renewal window and the old key pair deleted in
 * radosgw, so a request that still succeeds used the renewed credentials.
 * RSA and EC keys; a store built directly, from a connection, and as the
 * primary storage from STORAGE_ROLESANYWHERE_* variables.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config/load-config.ts';
import { parseConnectionSettings } from '../../src/links/connection-schema.ts';
import { defaultStoreFactory } from '../../src/links/connection-stores.ts';
import { REFRESH_BEFORE_MS } from '../../src/rolesanywhere/credentials.ts';
import { isStorageError } from '../../src/storage/errors.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { buildProviderStore } from '../../src/storage/provider-factory.ts';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import type { FakeRolesAnywhere, IssuedKeys } from '../helpers/peers/rolesanywhere-fake.ts';
import { Clock, makeBundle, MemoryLogger, PROFILE_ARN, removeBundles, ROLE_ARN, settingsFor, startFake, TRUST_ANCHOR_ARN, type Bundle } from './fixtures.ts';
import { gatedBody } from '../helpers/gated-body.ts';

const MiB = 1024 * 1024;
const USER = 'roles-anywhere-user';
const bucket = `ra-${randomUUID().slice(0, 8)}`;
const clock = new Clock();
const logger = new MemoryLogger();

interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const newKeyPair = (): KeyPair => ({ accessKeyId: `RA${randomBytes(9).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('hex') });
let current = newKeyPair();
const issue = (): IssuedKeys => ({ ...current, sessionToken: `session-${randomUUID()}` });

let rgw: Radosgw;
let fake: FakeRolesAnywhere;
let realTimeFake: FakeRolesAnywhere;
let rsa: Bundle;
let ec: Bundle;
const stores: ObjectStore[] = [];

function storeFor(bundle: Bundle): S3Store {
  const store = createS3Store({ endpoint: rgw.endpoint, rolesAnywhere: settingsFor(bundle, fake.endpoint), rolesAnywhereOptions: { now: clock.now, logger }, partSizeBytes: 5 * MiB });
  stores.push(store);
  return store;
}

/** A new key pair in radosgw and at the fake; the old one is deleted, so only renewed credentials work. */
async function rotate(): Promise<KeyPair> {
  const old = current;
  const next = newKeyPair();
  await rgw.admin('key', 'create', `--uid=${USER}`, '--key-type=s3', `--access-key=${next.accessKeyId}`, `--secret-key=${next.secretAccessKey}`);
  current = next;
  await rgw.admin('key', 'rm', `--uid=${USER}`, '--key-type=s3', `--access-key=${old.accessKeyId}`);
  return old;
}

/** Moves the clock into the renewal window of the latest session. */
function expireLatestSession(): void {
  const latest = fake.accepted.at(-1);
  assert.ok(latest !== undefined, 'no session yet');
  clock.ms = Math.max(clock.ms, latest.expiration.getTime() - REFRESH_BEFORE_MS + 1000);
}

async function assertRefused(pair: KeyPair): Promise<void> {
  const fixed = createS3Store({ endpoint: rgw.endpoint, accessKey: pair.accessKeyId, secretKey: pair.secretAccessKey });
  try {
    await assert.rejects(fixed.list(bucket), (err: unknown) => isStorageError(err, 'Unauthenticated'));
  } finally {
    await fixed.close();
  }
}

async function roundTrip(store: ObjectStore, key: string): Promise<void> {
  const bytes = randomBytes(1000);
  await store.put(bucket, key, Readable.from([bytes]), { size: bytes.length });
  assert.deepEqual(await buffer((await store.get(bucket, key)).body), bytes);
}

before(async () => {
  rgw = await startRadosgw();
  await rgw.admin('user', 'create', `--uid=${USER}`, `--display-name=${USER}`, `--access-key=${current.accessKeyId}`, `--secret=${current.secretAccessKey}`);
  [rsa, ec] = await Promise.all([makeBundle('rsa'), makeBundle('ec')]);
  // Real profiles last at least 900 s; the clock makes the length irrelevant anyway.
  fake = await startFake([rsa, ec], { now: clock.now, issue, profile: { durationSeconds: 900 } });
  realTimeFake = await startFake([rsa, ec], { issue });
});

after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await fake?.close();
  await realTimeFake?.close();
  await removeBundles();
  await rgw?.stop();
});

describe('S3 store with IAM Roles Anywhere credentials (radosgw)', () => {
  it('uploads and downloads with the credentials of a session signed by an RSA key, and by an EC key', async () => {
    const rsaStore = storeFor(rsa);
    await rsaStore.ensureBucket(bucket);
    await roundTrip(rsaStore, 'rsa/hello.bin');
    assert.equal(fake.accepted.at(-1)?.algorithm, 'AWS4-X509-RSA-SHA256');
    await roundTrip(storeFor(ec), 'ec/hello.bin');
    assert.equal(fake.accepted.at(-1)?.algorithm, 'AWS4-X509-ECDSA-SHA256');
    assert.ok(fake.accepted.every((s) => s.accessKeyId === current.accessKeyId));
  });

  it('renews the credentials in the middle of a multipart upload', async () => {
    const store = storeFor(ec);
    const upload = await store.createMultipart(bucket, 'rotated/multipart.bin');
    const first = await upload.uploadPart(1, Readable.from([Buffer.alloc(5 * MiB, 1)]), 5 * MiB);
    const sessions = fake.accepted.length;
    expireLatestSession();
    const old = await rotate();
    const second = await upload.uploadPart(2, Readable.from([Buffer.from('tail')]), 4);
    assert.equal((await upload.complete([first, second])).size, 5 * MiB + 4);
    assert.equal(fake.accepted.length, sessions + 1);
    assert.equal(fake.accepted.at(-1)?.accessKeyId, current.accessKeyId);
    await assertRefused(old);
  });

  it('keeps a streamed upload of unknown length working across a renewal', async () => {
    const store = storeFor(rsa);
    const key = 'rotated/streamed.bin';
    await roundTrip(store, 'rotated/warm-up.bin');
    const { body, release } = gatedBody(Buffer.alloc(6 * MiB, 2), Buffer.alloc(6 * MiB, 3));
    const put = store.put(bucket, key, body);
    await partsUploaded(store, key, 1);
    expireLatestSession();
    const old = await rotate();
    release();
    assert.equal((await put).size, 12 * MiB);
    assert.equal((await store.head(bucket, key)).size, 12 * MiB);
    await assertRefused(old);
  });

  it('serves a connection whose settings hold base64 PEM, as the seed UI sends them', async () => {
    const b64 = (pem: string) => Buffer.from(pem).toString('base64');
    const parsed = parseConnectionSettings({
      provider: 's3', endpoint: rgw.endpoint, buckets: [bucket],
      rolesanywhere: { ...settingsFor(ec, realTimeFake.endpoint), certificate: b64(ec.clientCert), private_key: b64(ec.clientKey), session_duration: '3600' },
    });
    assert.ok(parsed.settings !== undefined, JSON.stringify(parsed.issues));
    const store = await defaultStoreFactory()('by-certificate', parsed.settings);
    stores.push(store);
    await roundTrip(store, 'connection/hello.bin');
    assert.equal(realTimeFake.accepted.at(-1)?.durationSeconds, 3600);
  });

  it('serves the primary storage from STORAGE_ROLESANYWHERE_* variables, naming them in errors', async () => {
    const env = {
      STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: rgw.endpoint,
      STORAGE_ROLESANYWHERE_CERTIFICATE: rsa.certPath, STORAGE_ROLESANYWHERE_PRIVATE_KEY: rsa.keyPath,
      STORAGE_ROLESANYWHERE_TRUST_ANCHOR_ARN: TRUST_ANCHOR_ARN, STORAGE_ROLESANYWHERE_PROFILE_ARN: PROFILE_ARN,
      STORAGE_ROLESANYWHERE_ROLE_ARN: ROLE_ARN, STORAGE_ROLESANYWHERE_ENDPOINT: realTimeFake.endpoint,
    };
    const primary = await buildProviderStore(loadConfig({ env, envFile: '/nonexistent/.env' }));
    stores.push(primary.store);
    await roundTrip(primary.store, 'primary/hello.bin');
    const mismatched = loadConfig({ env: { ...env, STORAGE_ROLESANYWHERE_PRIVATE_KEY: ec.keyPath }, envFile: '/nonexistent/.env' });
    await assert.rejects(buildProviderStore(mismatched), (err: unknown) =>
      isStorageError(err, 'ConfigInvalid') && /STORAGE_ROLESANYWHERE_PRIVATE_KEY does not match STORAGE_ROLESANYWHERE_CERTIFICATE/u.test(err.message));
  });
});

/** Waits (polling the store's listing) until `count` parts of the upload at `key` are stored. */
async function partsUploaded(store: S3Store, key: string, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const uploads = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    const id = uploads.Uploads?.find((u) => u.Key === key)?.UploadId;
    const parts = id === undefined ? undefined : await store.client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id }));
    if ((parts?.Parts?.length ?? 0) >= count) return;
    await sleep(50);
  }
  throw new Error(`part ${count} of ${key} was never uploaded`);
}
