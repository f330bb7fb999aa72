/** Error mapping of the S3 provider, on SDK-shaped errors and a closed port (no peer needed). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { createS3Store, toS3Error } from '../../src/storage/providers/s3/index.ts';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import type { S3ErrorContext } from '../../src/storage/providers/s3/errors.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const ACCESS = 'AKIDEXAMPLE0001';
const env = { endpoint: 'http://127.0.0.1:7480', credentialsHint: 'STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY', secrets: [ACCESS, SECRET] };
const read: S3ErrorContext = { env, op: 'read', bucket: 'data', key: 'a/b.jpg' };
const write: S3ErrorContext = { ...read, op: 'write' };

function serviceError(name: string, status: number, message = `${name} happened`): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:7480`), { code });
}

describe('toS3Error', () => {
  const cases: [string, unknown, StorageErrorKind, RegExp?][] = [
    ['NoSuchKey', serviceError('NoSuchKey', 404), 'NotFound'],
    ['HEAD 404 without a code', serviceError('NotFound', 404), 'NotFound'],
    ['AccessDenied', serviceError('AccessDenied', 403), 'PermissionDenied'],
    ['HEAD 403 without a code', serviceError('Unknown', 403), 'PermissionDenied'],
    ['InvalidAccessKeyId', serviceError('InvalidAccessKeyId', 403), 'Unauthenticated', /credentials were rejected.*STORAGE_ACCESS_KEY/u],
    ['SignatureDoesNotMatch', serviceError('SignatureDoesNotMatch', 403), 'Unauthenticated'],
    ['ExpiredToken', serviceError('ExpiredToken', 400), 'Unauthenticated'],
    ['SlowDown', serviceError('SlowDown', 503), 'RateLimited'],
    ['503 without a code', serviceError('Unknown', 503), 'RateLimited'],
    ['429', serviceError('Unknown', 429), 'RateLimited'],
    ['RequestTimeout', serviceError('RequestTimeout', 400), 'RateLimited'],
    ['ThrottlingException', serviceError('ThrottlingException', 400), 'RateLimited'],
    ['InternalError', serviceError('InternalError', 500), 'Unavailable', /127\.0\.0\.1:7480/u],
    ['502', serviceError('Unknown', 502), 'Unavailable'],
    ['504', serviceError('Unknown', 504), 'Unavailable'],
    ['ECONNREFUSED', socketError('ECONNREFUSED'), 'Unavailable', /http:\/\/127\.0\.0\.1:7480 is unreachable \(ECONNREFUSED\)/u],
    ['ECONNRESET', socketError('ECONNRESET'), 'Unavailable'],
    ['ETIMEDOUT', socketError('ETIMEDOUT'), 'Unavailable'],
    ['ENOTFOUND', socketError('ENOTFOUND'), 'Unavailable'],
    ['TimeoutError', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }), 'Unavailable'],
    ['AggregateError', Object.assign(new AggregateError([socketError('ECONNREFUSED')]), {}), 'Unavailable'],
    ['PreconditionFailed', serviceError('PreconditionFailed', 412), 'PreconditionFailed'],
    ['412 without a code', serviceError('Unknown', 412), 'PreconditionFailed'],
    ['InvalidRange', serviceError('InvalidRange', 416), 'InvalidRange'],
    ['EntityTooLarge', serviceError('EntityTooLarge', 400), 'TooLarge'],
    ['InvalidPart', serviceError('InvalidPart', 400), 'PreconditionFailed'],
    ['InvalidPartOrder', serviceError('InvalidPartOrder', 400), 'PreconditionFailed'],
    ['NoSuchUpload', serviceError('NoSuchUpload', 404), 'PreconditionFailed'],
    ['BadDigest', serviceError('BadDigest', 400), 'Corrupt'],
    ['AbortError', Object.assign(new Error('Request aborted'), { name: 'AbortError' }), 'Internal', /operation aborted/u],
    ['CredentialsProviderError', Object.assign(new Error('no IMDS'), { name: 'CredentialsProviderError' }), 'Unavailable'],
    ['an unknown code', serviceError('WeirdThing', 400), 'Internal', /WeirdThing/u],
    ['a plain error', new Error('boom'), 'Internal', /data\/a\/b\.jpg: Error: boom/u],
  ];
  for (const [label, err, kind, pattern] of cases) {
    it(`maps ${label} to ${kind}`, () => {
      const mapped = toS3Error(err, read);
      assert.equal(mapped.kind, kind, mapped.message);
      assert.equal(mapped.provider, 'minio');
      assert.equal(mapped.cause, err);
      if (pattern !== undefined) assert.match(mapped.message, pattern);
    });
  }

  it('maps NoSuchBucket to NotFound when reading and ConfigInvalid when writing, naming the bucket', () => {
    const err = serviceError('NoSuchBucket', 404);
    assert.equal(toS3Error(err, read).kind, 'NotFound');
    const mapped = toS3Error(err, write);
    assert.equal(mapped.kind, 'ConfigInvalid');
    assert.match(mapped.message, /bucket data does not exist: create it or set STORAGE_CREATE_BUCKETS=true/u);
  });

  it('keeps StorageErrors as they are', () => {
    const original = toS3Error(serviceError('NoSuchKey', 404), read);
    assert.equal(toS3Error(original, write), original);
  });

  it('never puts keys or secrets into messages, even when the SDK quotes them', () => {
    for (const err of [serviceError('WeirdThing', 400, `bad key ${ACCESS} with ${SECRET}`), new Error(`oops ${SECRET}`)]) {
      const mapped = toS3Error(err, read);
      assert.ok(!mapped.message.includes(SECRET) && !mapped.message.includes(ACCESS), mapped.message);
    }
  });
});

describe('an unreachable endpoint', () => {
  it('fails every kind of operation with Unavailable at once (closed loopback port)', async () => {
    const port = await closedPort();
    const store = createS3Store({ endpoint: `http://127.0.0.1:${port}`, accessKey: ACCESS, secretKey: SECRET });
    const ops: [string, () => Promise<unknown>][] = [
      ['get', () => store.get('data', 'x.txt')],
      ['head', () => store.head('data', 'x.txt')],
      ['exists', () => store.exists('data', 'x.txt')],
      ['list', () => store.list('data')],
      ['put', () => store.put('data', 'x.txt', Readable.from([Buffer.from('x')]), { size: 1 })],
      ['put of unknown length', () => store.put('data', 'y.txt', Readable.from([Buffer.from('y')]))],
      ['ensureBucket', () => store.ensureBucket('data')],
    ];
    for (const [name, op] of ops) {
      await assert.rejects(op(), (err: unknown) => {
        assert.ok(isStorageError(err, 'Unavailable'), `${name}: ${String(err)}`);
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`, 'u'));
        assert.ok(!err.message.includes(SECRET) && !err.message.includes(ACCESS));
        return true;
      });
    }
    await store.close();
  });
});

/** A loopback port nobody listens on (the OS handed it out, then it was closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
