/**
 * Multipart uploads of the GCS store against a loopback bucket that
 * implements compose (the emulator answers 501 to it): parts as hidden
 * objects, compose trees of at most 32 sources pinned to generations, the
 * create-only precondition on the final compose, cleanup, and the streaming
 * fallback when compose is missing.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { isStorageError } from '../../src/storage/errors.ts';
import { createGcsStore, MULTIPART_PREFIX, type GcsStore } from '../../src/storage/providers/gcs/index.ts';
import { compareKeys } from '../../src/storage/providers/gcs/gcs-list.ts';
import { startGcsStub, type GcsStub } from '../helpers/peers/gcs-emulator.ts';

const B = 'parts-bucket';

interface Stored {
  readonly data: Buffer;
  readonly generation: number;
  readonly contentType: string;
}

interface Compose {
  readonly destination: string;
  readonly contentType: string;
  readonly sources: readonly { readonly name: string; readonly generation?: number }[];
  readonly ifGenerationMatch: string | null;
}

/** One bucket: metadata, media, list, multipart and single-request resumable uploads, compose, delete. */
class FakeBucket {
  readonly objects = new Map<string, Stored>();
  readonly composes: Compose[] = [];
  readonly #sessions = new Map<string, { name: string; contentType: string }>();
  composeStatus: number | undefined;
  /** `timeCreated` of every object: long ago unless a test says otherwise. */
  createdAt = '2020-01-01T00:00:00Z';
  #generation = 0;

  handle(req: IncomingMessage, body: Buffer, res: ServerResponse, endpoint: string): void {
    const url = new URL(req.url ?? '/', endpoint);
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? '';
    if (path === `/storage/v1/b/${B}`) return json(res, 200, { name: B });
    if (path === `/storage/v1/b/${B}/o` && method === 'GET') return json(res, 200, this.#list(url.searchParams));
    if (method === 'POST' && path === `/upload/storage/v1/b/${B}/o` && url.searchParams.get('uploadType') === 'multipart') {
      const { resource, data } = parseMultipart(String(req.headers['content-type']), body);
      return json(res, 200, this.#store(String(resource['name']), data, String(resource['contentType'])));
    }
    if (method === 'POST' && path === `/upload/storage/v1/b/${B}/o`) {
      const id = String(this.#sessions.size);
      this.#sessions.set(id, { name: url.searchParams.get('name') ?? '', contentType: String(req.headers['x-upload-content-type']) });
      return void res.writeHead(200, { location: `${endpoint}/session/${id}` }).end();
    }
    const session = /^\/session\/(\d+)$/u.exec(path)?.[1];
    if (session !== undefined) {
      const { name, contentType } = this.#sessions.get(session) ?? { name: '', contentType: '' };
      return json(res, 200, this.#store(name, body, contentType));
    }
    const compose = new RegExp(`^/storage/v1/b/${B}/o/(.+)/compose$`, 'u').exec(path)?.[1];
    if (compose !== undefined && method === 'POST') return this.#compose(compose, JSON.parse(body.toString()), url.searchParams, res);
    const name = new RegExp(`^/storage/v1/b/${B}/o/(.+)$`, 'u').exec(path)?.[1] ?? '';
    const stored = this.objects.get(name);
    if (stored === undefined) return json(res, 404, { error: { code: 404, message: `No such object: ${B}/${name}` } });
    if (method === 'DELETE') {
      this.objects.delete(name);
      return void res.writeHead(204).end();
    }
    if (url.searchParams.get('alt') === 'media') return void res.writeHead(200).end(stored.data);
    json(res, 200, this.#metadata(name, stored));
  }

  #store(name: string, data: Buffer, contentType: string): Record<string, unknown> {
    const stored = { data, generation: ++this.#generation, contentType };
    this.objects.set(name, stored);
    return this.#metadata(name, stored);
  }

  #metadata(name: string, s: Stored): Record<string, unknown> {
    const md5Hash = createHash('md5').update(s.data).digest('base64');
    return { bucket: B, name, size: String(s.data.length), generation: String(s.generation), etag: `E${s.generation}`, md5Hash, contentType: s.contentType, updated: this.createdAt, timeCreated: this.createdAt };
  }

  #list(query: URLSearchParams): unknown {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const names = [...this.objects.keys()].filter((n) => n.startsWith(prefix)).sort(compareKeys);
    const grouped = (n: string): number => (delimiter === '' ? -1 : n.indexOf(delimiter, prefix.length));
    const prefixes = [...new Set(names.filter((n) => grouped(n) !== -1).map((n) => n.slice(0, grouped(n) + delimiter.length)))];
    const items = names.filter((n) => grouped(n) === -1).map((n) => this.#metadata(n, this.objects.get(n) as Stored));
    return { items, prefixes };
  }

  #compose(destination: string, body: { destination: { contentType: string }; sourceObjects: Compose['sources'] }, query: URLSearchParams, res: ServerResponse): void {
    this.composes.push({ destination, contentType: body.destination.contentType, sources: body.sourceObjects, ifGenerationMatch: query.get('ifGenerationMatch') });
    if (this.composeStatus !== undefined) return json(res, this.composeStatus, { error: { code: this.composeStatus, message: 'Not Implemented' } });
    if (query.get('ifGenerationMatch') === '0' && this.objects.has(destination)) return json(res, 412, { error: { code: 412, message: 'conditionNotMet' } });
    const parts = body.sourceObjects.map((s) => this.objects.get(s.name));
    if (parts.some((p, i) => p === undefined || p.generation !== body.sourceObjects[i]?.generation)) return json(res, 404, { error: { code: 404, message: 'source' } });
    json(res, 200, this.#store(destination, Buffer.concat(parts.map((p) => (p as Stored).data)), body.destination.contentType));
  }
}

/** The object resource and bytes of an `uploadType=multipart` body. */
function parseMultipart(contentType: string, body: Buffer): { resource: Record<string, unknown>; data: Buffer } {
  const boundary = /boundary=([^;]+)/u.exec(contentType)?.[1] ?? assert.fail(`no boundary in ${contentType}`);
  const parts = body.toString('latin1').split(`--${boundary}`).slice(1, -1);
  const [meta, media] = parts.map((p) => p.slice(p.indexOf('\r\n\r\n') + 4, -2));
  const resource = JSON.parse(Buffer.from(meta ?? '{}', 'latin1').toString('utf8')) as Record<string, unknown>;
  return { resource, data: Buffer.from(media ?? '', 'latin1') };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const part = (n: number): Buffer => Buffer.from(`<part ${n}>`);

describe('gcs multipart (parts as hidden objects, compose)', () => {
  let fake: FakeBucket;
  let stub: GcsStub;
  let store: GcsStore;
  beforeEach(async () => {
    fake = new FakeBucket();
    stub = await startGcsStub((req, body, res, endpoint) => fake.handle(req, body, res, endpoint));
    store = createGcsStore({ endpoint: stub.endpoint });
  });
  afterEach(async () => {
    await store.close();
    await stub.close();
  });

  async function uploadParts(key: string, count: number, options = {}) {
    const upload = await store.createMultipart(B, key, options);
    const parts = [];
    for (let n = count; n >= 1; n--) parts.push(await upload.uploadPart(n, Readable.from([part(n)]), part(n).length));
    return { upload, parts: parts.reverse() };
  }

  it('stores parts under the hidden prefix and composes them server-side, then removes them', async () => {
    const { upload, parts } = await uploadParts('video/clip.mp4', 3);
    assert.deepEqual([...fake.objects.keys()].sort(), [1, 2, 3].map((n) => `${MULTIPART_PREFIX}${upload.uploadId}/${n}`).sort());
    assert.deepEqual((await store.list(B)).objects, [], 'parts are never listed');
    const info = await upload.complete(parts);
    assert.equal(info.size, part(1).length + part(2).length + part(3).length);
    assert.deepEqual(fake.objects.get('video/clip.mp4')?.data, Buffer.concat([part(1), part(2), part(3)]));
    assert.equal(fake.composes.length, 1);
    assert.equal(fake.composes[0]?.contentType, 'video/mp4');
    assert.ok(fake.composes[0]?.sources.every((s) => typeof s.generation === 'number'), 'sources pinned to the checked generations');
    assert.deepEqual([...fake.objects.keys()], ['video/clip.mp4'], 'parts removed');
  });

  it('composes more than 32 parts as a tree of at most 32 sources per request', async () => {
    const { parts, upload } = await uploadParts('many.bin', 70);
    await upload.complete(parts);
    assert.deepEqual(fake.composes.map((c) => c.sources.length), [32, 32, 6, 3]);
    assert.equal(fake.composes.at(-1)?.destination, 'many.bin');
    assert.deepEqual(fake.objects.get('many.bin')?.data, Buffer.concat(parts.map((p) => part(p.partNumber))));
    assert.deepEqual([...fake.objects.keys()], ['many.bin'], 'parts and intermediates removed');
  });

  it('sends ifGenerationMatch=0 on the final compose for ifNoneMatch', async () => {
    const { parts, upload } = await uploadParts('once.bin', 2, { ifNoneMatch: true });
    await upload.complete(parts);
    assert.equal(fake.composes.at(-1)?.ifGenerationMatch, '0');
    const again = await uploadParts('once.bin', 1, { ifNoneMatch: true });
    await assert.rejects(again.upload.complete(again.parts), (err: unknown) => isStorageError(err, 'PreconditionFailed'));
  });

  it('refuses parts that do not match, and abort removes them', async () => {
    const { parts, upload } = await uploadParts('bad.bin', 2);
    await assert.rejects(upload.complete([parts[0] ?? assert.fail(), { partNumber: 3, etag: '"x"', size: 1 }]), (err: unknown) => isStorageError(err, 'PreconditionFailed'));
    await assert.rejects(upload.complete([{ ...(parts[0] ?? assert.fail()), size: 99 }]), (err: unknown) => isStorageError(err, 'PreconditionFailed'));
    await upload.abort();
    await upload.abort();
    assert.equal(fake.objects.size, 0);
    await assert.rejects(upload.uploadPart(1, Readable.from([part(1)]), part(1).length), (err: unknown) => isStorageError(err, 'NotFound'));
  });

  it('streams the parts into one upload when the server has no compose (501)', async () => {
    fake.composeStatus = 501;
    const { parts, upload } = await uploadParts('fallback.bin', 3);
    const info = await upload.complete(parts);
    assert.deepEqual(fake.objects.get('fallback.bin')?.data, Buffer.concat([part(1), part(2), part(3)]));
    assert.equal(info.size, fake.objects.get('fallback.bin')?.data.length);
    const second = await uploadParts('fallback-2.bin', 2);
    await second.upload.complete(second.parts);
    assert.equal(fake.composes.length, 1, 'compose is not tried again once the server said 501');
  });

  it('refuses user keys under the reserved prefix', async () => {
    await assert.rejects(store.put(B, `${MULTIPART_PREFIX}x/1`, Readable.from([Buffer.from('x')])), (err: unknown) => isStorageError(err, 'InvalidKey'));
    await assert.rejects(store.createMultipart(B, `${MULTIPART_PREFIX}y`), (err: unknown) => isStorageError(err, 'InvalidKey'));
  });

  it('close aborts open uploads; sweepParts removes abandoned ones only', async () => {
    const open = await uploadParts('open.bin', 2);
    const crashed = createGcsStore({ endpoint: stub.endpoint });
    const lost = await crashed.createMultipart(B, 'lost.bin');
    await lost.uploadPart(1, Readable.from([part(1)]), part(1).length);
    const has = (uploadId: string): boolean => [...fake.objects.keys()].some((k) => k.includes(uploadId));
    fake.createdAt = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal(await store.sweepParts(B), 0, 'recent parts are kept');
    fake.createdAt = '2020-01-01T00:00:00Z';
    assert.equal(await store.sweepParts(B), 1);
    assert.ok(!has(lost.uploadId), 'abandoned parts removed');
    assert.ok(has(open.upload.uploadId), 'parts of uploads open in this instance kept');
    await store.close();
    assert.ok(!has(open.upload.uploadId), 'open upload aborted by close');
  });
});
