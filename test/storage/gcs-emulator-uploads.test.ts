/**
 * Upload paths of the GCS store against firebase-tools' emulator, beyond what
 * the conformance suite sends: declared sizes on both sides of the
 * one-request limit (a multipart request, then a streamed PUT with its
 * length), a large putFile, and chunked uploads, which the emulator cannot do
 * (it finalises a session on its first PUT, whatever its Content-Range): the
 * reason one streamed request is the default.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isStorageError } from '../../src/storage/errors.ts';
import { createGcsStore, type GcsStore } from '../../src/storage/providers/gcs/index.ts';
import { startGcsEmulator, type GcsEmulator } from '../helpers/peers/gcs-emulator.ts';

const MiB = 1024 * 1024;
const LIMIT = 8 * MiB;
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function read(store: GcsStore, bucket: string, key: string): Promise<Buffer> {
  const { body } = await store.get(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `data` in 1 MiB pieces, as a client upload arrives. */
const pieces = (data: Buffer): Readable => Readable.from((function* () {
  for (let at = 0; at < data.length; at += MiB) yield data.subarray(at, at + MiB);
})(), { objectMode: false });

describe('gcs uploads against the firebase-tools emulator', () => {
  let emulator: GcsEmulator;
  let store: GcsStore;
  const bucket = `uploads-${randomUUID().slice(0, 8)}`;
  before(async () => {
    emulator = await startGcsEmulator();
    // As the bench and conformance run it: some emulator routes need the SDK's emulator mode.
    process.env['STORAGE_EMULATOR_HOST'] = emulator.endpoint;
    store = createGcsStore({ endpoint: emulator.endpoint, projectId: 'demo-test' });
    await store.ensureBucket(bucket);
  });
  after(async () => {
    await store.close();
    await emulator.stop();
    delete process.env['STORAGE_EMULATOR_HOST'];
  });

  for (const size of [LIMIT, LIMIT + 1]) {
    it(`stores a body of declared size ${size} (${size <= LIMIT ? 'one multipart request' : 'streamed PUT'})`, async () => {
      const data = randomBytes(size);
      const info = await store.put(bucket, `declared/${size}.png`, pieces(data), { size });
      assert.equal(info.size, size);
      assert.equal(info.contentType, 'image/png');
      assert.equal(sha(await read(store, bucket, `declared/${size}.png`)), sha(data));
    });
  }

  it('stores a 12 MiB file with putFile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gcs-emu-'));
    try {
      const data = randomBytes(12 * MiB + 5);
      await writeFile(join(dir, 'big.bin'), data);
      assert.equal((await store.putFile(bucket, 'files/big.bin', join(dir, 'big.bin'))).size, data.length);
      assert.equal(sha(await read(store, bucket, 'files/big.bin')), sha(data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a chunked upload is Corrupt on the emulator and leaves no partial object', async () => {
    const chunked = createGcsStore({ endpoint: emulator.endpoint, projectId: 'demo-test', uploadChunkSize: 4 * MiB, simpleUploadMaxSize: 0 });
    try {
      // The emulator has no bucket metadata route: each store learns the bucket from ensureBucket.
      await chunked.ensureBucket(bucket);
      await assert.rejects(chunked.put(bucket, 'chunked.bin', pieces(randomBytes(6 * MiB))), (err: unknown) => isStorageError(err, 'Corrupt'));
      assert.equal(await store.exists(bucket, 'chunked.bin'), false);
    } finally {
      await chunked.close();
    }
  });
});
