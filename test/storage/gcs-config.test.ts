import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStorageError } from '../../src/storage/errors.ts';
import {
  createGcsStore,
  DEFAULT_GCS_ENDPOINT,
  describeGcsEndpoint,
  loadServiceAccount,
  resolveGcsEndpoint,
} from '../../src/storage/providers/gcs/index.ts';

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
/** A line from the middle of the key: must never show up in a message. */
const KEY_SNIPPET = privateKey.split('\n')[5] ?? 'unreachable';

const VALID = {
  type: 'service_account',
  project_id: 'stowage-test',
  private_key_id: '0123456789abcdef',
  private_key: privateKey,
  client_email: 'stowage@stowage-test.iam.gserviceaccount.com',
};

function configInvalid(path: string, ...mentions: string[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(isStorageError(err, 'ConfigInvalid'), `expected ConfigInvalid, got ${String(err)}`);
    assert.ok(err.message.includes(path), `message names the path: ${err.message}`);
    for (const text of mentions) assert.ok(err.message.includes(text), `message mentions ${text}: ${err.message}`);
    assert.ok(!err.message.includes(KEY_SNIPPET) && !err.message.includes('PRIVATE KEY'), 'message leaks the key');
    assert.ok(!String(err.cause ?? '').includes(KEY_SNIPPET), 'cause leaks the key');
    return true;
  };
}

describe('gcs service-account file', () => {
  let dir: string;
  const file = async (name: string, content: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-gcs-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a valid file', async () => {
    const path = await file('valid.json', JSON.stringify(VALID));
    assert.deepEqual(loadServiceAccount(path), { clientEmail: VALID.client_email, privateKey, projectId: 'stowage-test' });
  });

  it('refuses a missing file, naming the path', () => {
    const path = join(dir, 'nope.json');
    assert.throws(() => loadServiceAccount(path), configInvalid(path, 'cannot be read', 'ENOENT'));
  });

  it('refuses a file that is not JSON without quoting it (here: a bare PEM key)', async () => {
    const path = await file('key.pem', privateKey);
    assert.throws(() => loadServiceAccount(path), configInvalid(path, 'not valid JSON'));
  });

  it('refuses JSON that is not an object', async () => {
    const path = await file('array.json', JSON.stringify([VALID]));
    assert.throws(() => loadServiceAccount(path), configInvalid(path, 'JSON object'));
  });

  for (const missing of ['private_key', 'client_email', 'type'] as const) {
    it(`names a missing "${missing}" field`, async () => {
      const { [missing]: _dropped, ...rest } = VALID;
      const path = await file(`no-${missing}.json`, JSON.stringify(rest));
      assert.throws(() => loadServiceAccount(path), configInvalid(path, `"${missing}"`));
    });
  }

  it('refuses another credential type, naming the "type" field', async () => {
    const path = await file('user.json', JSON.stringify({ ...VALID, type: 'authorized_user' }));
    assert.throws(() => loadServiceAccount(path), configInvalid(path, '"type"', 'service_account', 'authorized_user'));
  });

  it('refuses a private key that does not parse, without echoing it', async () => {
    // Truncated (a copy-paste accident): still PEM-shaped, still holding KEY_SNIPPET.
    const lines = privateKey.trim().split('\n');
    const broken = [...lines.slice(0, 8), lines.at(-1)].join('\n');
    const path = await file('broken.json', JSON.stringify({ ...VALID, private_key: broken }));
    assert.throws(() => loadServiceAccount(path), configInvalid(path, '"private_key"'));
  });

  it('is validated when the store is created', async () => {
    const path = await file('store-no-key.json', JSON.stringify({ ...VALID, private_key: '' }));
    assert.throws(() => createGcsStore({ credentialsPath: path }), configInvalid(path, '"private_key"'));
    const good = await file('store-valid.json', JSON.stringify(VALID));
    const store = createGcsStore({ credentialsPath: good });
    assert.equal(store.provider, 'google');
    assert.ok(!JSON.stringify(store).includes(KEY_SNIPPET), 'the store serialises without its key');
    await store.close();
  });

  it('takes the key inline (a connection\'s credentials_json), checked the same way and named so', async () => {
    assert.throws(() => createGcsStore({ credentialsJson: JSON.stringify({ ...VALID, type: 'authorized_user' }) }), configInvalid('credentials_json', '"type"'));
    assert.throws(() => createGcsStore({ credentialsJson: `${JSON.stringify(VALID).slice(0, 200)}` }), configInvalid('credentials_json', 'not valid JSON'));
    const store = createGcsStore({ credentialsJson: JSON.stringify(VALID) });
    assert.equal(store.provider, 'google');
    assert.match(describeGcsEndpoint({ credentialsJson: JSON.stringify(VALID) }), /service-account key given inline/);
    assert.ok(!describeGcsEndpoint({ credentialsJson: JSON.stringify(VALID) }).includes(KEY_SNIPPET));
    await store.close();
  });
});

describe('gcs endpoint', () => {
  it('defaults to the public API', () => {
    assert.equal(resolveGcsEndpoint(undefined), DEFAULT_GCS_ENDPOINT);
    assert.equal(resolveGcsEndpoint('  '), 'https://storage.googleapis.com');
  });

  it('turns a bare host into https and keeps full URLs', () => {
    assert.equal(resolveGcsEndpoint('storage.googleapis.com'), 'https://storage.googleapis.com');
    assert.equal(resolveGcsEndpoint('gcs.internal:8443'), 'https://gcs.internal:8443');
    assert.equal(resolveGcsEndpoint('http://127.0.0.1:9023/'), 'http://127.0.0.1:9023');
    assert.equal(resolveGcsEndpoint('https://private.googleapis.com/base/'), 'https://private.googleapis.com/base');
  });

  it('refuses other schemes and URLs carrying credentials, without echoing them', () => {
    assert.throws(() => resolveGcsEndpoint('ftp://storage.example'), (err: unknown) => isStorageError(err, 'ConfigInvalid'));
    assert.throws(() => resolveGcsEndpoint('https://user:hunter2@storage.example'), (err: unknown) => {
      assert.ok(isStorageError(err, 'ConfigInvalid'));
      assert.ok(!err.message.includes('hunter2'));
      return true;
    });
  });

  it('describes the connection without secrets', () => {
    assert.equal(describeGcsEndpoint({}), 'google storage at https://storage.googleapis.com (application default credentials)');
    assert.equal(
      describeGcsEndpoint({ endpoint: 'storage.googleapis.com', credentialsPath: '/gcs.json', projectId: 'p1' }),
      'google storage at https://storage.googleapis.com (service account file /gcs.json, project p1)',
    );
    assert.equal(describeGcsEndpoint({ endpoint: 'http://127.0.0.1:9023' }), 'google storage at http://127.0.0.1:9023 (no credentials)');
  });

  it('refuses a one-request upload limit that is negative, fractional or above 64 MiB', () => {
    for (const simpleUploadMaxSize of [-1, 1.5, 64 * 1024 * 1024 + 1]) {
      assert.throws(() => createGcsStore({ simpleUploadMaxSize }), (err: unknown) => isStorageError(err, 'ConfigInvalid'));
    }
    assert.equal(createGcsStore({ simpleUploadMaxSize: 0 }).endpoint, DEFAULT_GCS_ENDPOINT);
  });

  it('refuses an upload chunk size that is not a multiple of 256 KiB', () => {
    assert.throws(() => createGcsStore({ uploadChunkSize: 1_000_000 }), (err: unknown) => isStorageError(err, 'ConfigInvalid'));
    assert.throws(() => createGcsStore({ timeoutMs: 0 }), (err: unknown) => isStorageError(err, 'ConfigInvalid'));
    assert.equal(createGcsStore({ uploadChunkSize: 4 * 256 * 1024 }).endpoint, DEFAULT_GCS_ENDPOINT);
  });
});
