/** Units of the Azure provider that need no peer: settings, SAS detection, error mapping, redaction, timeouts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { createAzureStore, describeAzureEndpoint, isSasToken } from '../../src/storage/providers/azure/index.ts';
import { redact, toAzureError } from '../../src/storage/providers/azure/azure-errors.ts';
import { armTimeouts } from '../../src/storage/providers/azure/http-agent.ts';
import { blockId } from '../../src/storage/providers/azure/upload.ts';
import { isStorageError } from '../../src/storage/errors.ts';

const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const SIG = 'c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ%3D%3D';
const SAS = `?sv=2025-11-05&ss=b&srt=sco&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=${SIG}`;
const SCOPE = { endpoint: 'https://acct.blob.core.windows.net', secrets: [KEY, SAS.slice(1), SIG] };

describe('isSasToken', () => {
  it('recognises tokens with and without "?", and portal tokens starting with sp=', () => {
    assert.equal(isSasToken(SAS), true);
    assert.equal(isSasToken(SAS.slice(1)), true);
    assert.equal(isSasToken(`sp=r&st=2025-01-01&se=2030-01-01&spr=https&sv=2022-11-02&sr=c&sig=${SIG}`), true);
  });

  it('takes an 88-character base64 account key for a key', () => {
    assert.equal(KEY.length, 88);
    assert.equal(isSasToken(KEY), false);
    assert.equal(isSasToken('c2hvcnQ='), false);
  });
});

describe('describeAzureEndpoint', () => {
  it('names account, endpoint and auth kind, never the secret', () => {
    const withSas = describeAzureEndpoint({ endpoint: `https://acct.blob.core.windows.net/${SAS}`, accountName: 'acct', secret: SAS });
    assert.equal(withSas, 'Azure Blob account acct at https://acct.blob.core.windows.net (SAS token)');
    const withKey = describeAzureEndpoint({ endpoint: 'http://127.0.0.1:10000/devstoreaccount1', accountName: 'devstoreaccount1', secret: KEY });
    assert.equal(withKey, 'Azure Blob account devstoreaccount1 at http://127.0.0.1:10000/devstoreaccount1 (account key)');
    assert.ok(!withKey.includes(KEY));
  });
});

describe('createAzureStore settings', () => {
  const invalid = (options: Parameters<typeof createAzureStore>[0], pattern: RegExp) => {
    assert.throws(() => createAzureStore(options), (err: unknown) => {
      assert.ok(isStorageError(err, 'ConfigInvalid'), String(err));
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('not-a-key'));
      return true;
    });
  };

  it('refuses a non-http endpoint, an empty account, and a secret that is neither key nor SAS', () => {
    invalid({ endpoint: 'acct.blob.core.windows.net', accountName: 'acct', secret: KEY }, /STORAGE_ENDPOINT/u);
    invalid({ endpoint: 'ftp://acct', accountName: 'acct', secret: KEY }, /STORAGE_ENDPOINT/u);
    invalid({ endpoint: 'https://acct.blob.core.windows.net', accountName: ' ', secret: KEY }, /STORAGE_ACCESS_KEY/u);
    invalid({ endpoint: 'https://acct.blob.core.windows.net', accountName: 'acct', secret: 'not-a-key!' }, /STORAGE_SECRET_KEY/u);
    invalid({ endpoint: 'https://acct.blob.core.windows.net', accountName: 'acct', secret: KEY, connectTimeoutMs: 0 }, /connectTimeoutMs/u);
  });

  it('creates a store without contacting the endpoint', async () => {
    const store = createAzureStore({ endpoint: 'https://acct.blob.core.windows.net', accountName: 'acct', secret: SAS });
    assert.equal(store.provider, 'azure');
    assert.deepEqual(
      { ...store.capabilities },
      { multipart: true, serverSideCopy: true, conditionalPut: true, presignedUrls: false, maxObjectSize: 50_000 * 4000 * 1024 * 1024 },
    );
    await store.close();
  });
});

/** An SDK-like error (RestError carries `statusCode`, `code` and `details.errorCode`). */
function restError(status: number | undefined, code: string | undefined, message = ''): Error {
  return Object.assign(new Error(message), { name: 'RestError', statusCode: status, code, details: { errorCode: code } });
}

describe('Azure error mapping', () => {
  const cases: [Error, 'read' | 'write', string][] = [
    [restError(404, 'BlobNotFound'), 'read', 'NotFound'],
    [restError(404, 'ContainerNotFound'), 'read', 'NotFound'],
    [restError(404, 'ContainerNotFound'), 'write', 'ConfigInvalid'],
    [restError(403, 'AuthenticationFailed'), 'read', 'Unauthenticated'],
    [restError(403, 'AuthorizationFailure', 'Server failed to authenticate the request.'), 'read', 'Unauthenticated'],
    [restError(403, 'AuthorizationPermissionMismatch', 'not authorized'), 'write', 'PermissionDenied'],
    [restError(403, 'AuthorizationFailure', 'This request is not authorized'), 'read', 'PermissionDenied'],
    [restError(503, 'ServerBusy'), 'read', 'RateLimited'],
    [restError(429, undefined), 'read', 'RateLimited'],
    [restError(500, 'InternalError'), 'read', 'Unavailable'],
    [restError(undefined, 'ECONNREFUSED', 'connect ECONNREFUSED'), 'read', 'Unavailable'],
    [restError(undefined, 'ETIMEDOUT', 'no data'), 'read', 'Unavailable'],
    [restError(412, 'ConditionNotMet'), 'write', 'PreconditionFailed'],
    [restError(409, 'BlobAlreadyExists'), 'write', 'PreconditionFailed'],
    [restError(400, 'InvalidBlockList'), 'write', 'PreconditionFailed'],
    [restError(416, 'InvalidRange'), 'read', 'InvalidRange'],
    [restError(400, 'Md5Mismatch'), 'write', 'Corrupt'],
    [restError(400, 'InvalidResourceName'), 'read', 'InvalidKey'],
    [restError(400, 'SomethingNew', 'odd'), 'read', 'Internal'],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'read', 'Internal'],
  ];
  for (const [err, op, kind] of cases) {
    it(`${(err as { code?: string }).code ?? err.name} on a ${op} → ${kind}`, () => {
      const mapped = toAzureError(err, { bucket: 'media', key: 'a.jpg', op, write: op === 'write' }, SCOPE);
      assert.equal(mapped.kind, kind, mapped.message);
      assert.equal(mapped.provider, 'azure');
    });
  }

  it('names the container and the setting for a missing container', () => {
    const mapped = toAzureError(restError(404, 'ContainerNotFound'), { bucket: 'media', key: 'a.jpg', op: 'write', write: true }, SCOPE);
    assert.equal(mapped.message, 'container media does not exist: create it or set STORAGE_CREATE_BUCKETS=true');
  });

  it('never lets the key, the SAS or its signature into messages or causes', () => {
    const leaky = restError(undefined, 'ECONNRESET', `socket hang up at https://acct.blob.core.windows.net/media/a.jpg${SAS} using ${KEY}`);
    for (const err of [leaky, restError(400, 'Weird', `sig=${SIG}&x=1 key ${KEY}`), restError(403, 'AuthenticationFailed', `The MAC signature found in the HTTP request '${SIG}' is not valid`)]) {
      const mapped = toAzureError(err, { bucket: 'media', key: 'a.jpg', op: 'read' }, SCOPE);
      const text = `${mapped.message} ${(mapped.cause as Error).message} ${JSON.stringify(mapped)} ${JSON.stringify(mapped.cause)}`;
      for (const secret of [KEY, SIG, decodeURIComponent(SIG)]) assert.ok(!text.includes(secret), text);
    }
  });

  it('redacts query strings and sig= values', () => {
    assert.equal(redact(`GET https://a.example/c/k${SAS} failed`, []), 'GET https://a.example/c/k failed');
    assert.equal(redact(`token sig=${SIG}&se=1`, []), 'token sig=[REDACTED]&se=1');
  });
});

describe('connect and idle timeouts', () => {
  class FakeSocket extends EventEmitter {
    timeouts: number[] = [];
    destroyedWith: (Error & { code?: string }) | undefined;
    paused = false;
    isPaused(): boolean {
      return this.paused;
    }
    setTimeout(ms: number): this {
      this.timeouts.push(ms);
      return this;
    }
    destroy(err?: Error): this {
      this.destroyedWith = err;
      return this;
    }
  }
  const t = { connectTimeoutMs: 100, requestTimeoutMs: 5000 };

  it('fails a connection that does not open in time with ETIMEDOUT', () => {
    const socket = new FakeSocket();
    armTimeouts(socket as unknown as Duplex, t);
    assert.deepEqual(socket.timeouts, [100]);
    socket.emit('timeout');
    assert.equal(socket.destroyedWith?.code, 'ETIMEDOUT');
    assert.match(socket.destroyedWith?.message ?? '', /connect timeout after 100 ms/u);
  });

  it('switches to the idle timeout once connected', () => {
    const socket = new FakeSocket();
    armTimeouts(socket as unknown as Duplex, t);
    socket.emit('connect');
    assert.deepEqual(socket.timeouts, [100, 5000]);
    socket.emit('timeout');
    assert.match(socket.destroyedWith?.message ?? '', /no data for 5000 ms/u);
  });

  it('leaves a socket paused by a slow reader alone', () => {
    const socket = new FakeSocket();
    armTimeouts(socket as unknown as Duplex, t);
    socket.emit('connect');
    socket.paused = true;
    socket.emit('timeout');
    assert.equal(socket.destroyedWith, undefined);
  });
});

describe('block ids', () => {
  it('are base64 of 48 characters whatever the index, as Azure needs equal lengths per blob', () => {
    const prefix = 'a'.repeat(32);
    const ids = [0, 1, 9999, 49_999].map((i) => blockId(prefix, i));
    for (const id of ids) assert.equal(Buffer.from(id, 'base64').length, 48);
    assert.equal(new Set(ids).size, ids.length);
  });
});
