/**
 * Listing of the GCS store against a loopback `objects.list` that pages like
 * real GCS (byte order, `maxResults` counting objects and prefixes together,
 * `startOffset`, page tokens), which the emulator does not.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStorageError } from '../../src/storage/errors.ts';
import { createGcsStore, type GcsStore } from '../../src/storage/providers/gcs/index.ts';
import { compareKeys, decodeToken, encodeToken, pastPrefix } from '../../src/storage/providers/gcs/gcs-list.ts';
import { startGcsStub, type GcsStub } from '../helpers/peers/gcs-emulator.ts';

const B = 'list-bucket';
const KEYS = ['.stowage-multipart/u1/1', '.stowage-multipart/u1/2', 'a.txt', 'b/1.txt', 'b/2.txt', 'c.txt', 'dir/', 'x-y', 'x/y', 'x0', 'Ａ', '😀'].sort(compareKeys);

/** `objects.list` over KEYS as GCS answers it. */
function list(query: URLSearchParams): unknown {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const from = query.get('pageToken') ?? query.get('startOffset') ?? '';
  const max = Number(query.get('maxResults') ?? 1000);
  const items: unknown[] = [];
  const prefixes: string[] = [];
  for (const key of KEYS) {
    if (!key.startsWith(prefix) || compareKeys(key, from) < 0) continue;
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    const group = cut === -1 ? undefined : key.slice(0, cut + delimiter.length);
    if (group !== undefined && prefixes.includes(group)) continue;
    if (items.length + prefixes.length === max) return { items, prefixes, nextPageToken: key };
    if (group === undefined) items.push({ name: key, bucket: B, size: '1', generation: '1', etag: `E-${key}`, updated: '2026-01-01T00:00:00Z' });
    else prefixes.push(group);
  }
  return { items, prefixes };
}

describe('gcs list', () => {
  let stub: GcsStub;
  let store: GcsStore;
  const queries = (): URLSearchParams[] =>
    stub.requests.filter((r) => r.url.startsWith(`/storage/v1/b/${B}/o`)).map((r) => new URL(r.url, stub.endpoint).searchParams);
  before(async () => {
    stub = await startGcsStub((req, _body, res, endpoint) => {
      const url = new URL(req.url ?? '/', endpoint);
      const body = url.pathname === `/storage/v1/b/${B}` ? { name: B } : list(url.searchParams);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    store = createGcsStore({ endpoint: stub.endpoint });
  });
  after(async () => {
    await store.close();
    await stub.close();
  });

  it('hides multipart parts and keys the contract cannot address', async () => {
    const page = await store.list(B, { delimiter: '/' });
    assert.deepEqual(page.objects.map((o) => o.key), ['a.txt', 'c.txt', 'x-y', 'x0', 'Ａ', '😀']);
    assert.deepEqual(page.prefixes, ['b/', 'dir/', 'x/']);
    assert.deepEqual((await store.list(B)).objects.map((o) => o.key), ['a.txt', 'b/1.txt', 'b/2.txt', 'c.txt', 'x-y', 'x/y', 'x0', 'Ａ', '😀']);
  });

  it('resumes with startOffset past the last entry served, objects and prefixes alike', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    const before = queries().length;
    do {
      const page = await store.list(B, { delimiter: '/', maxKeys: 2, continuationToken: token });
      seen.push(...page.objects.map((o) => o.key), ...page.prefixes);
      token = page.nextToken;
    } while (token !== undefined);
    assert.deepEqual(seen, ['a.txt', 'b/', 'c.txt', 'dir/', 'x-y', 'x/', 'x0', 'Ａ', '😀']);
    const offsets = queries().slice(before).map((q) => q.get('startOffset'));
    // After a prefix, the whole group is skipped server-side ('b/' → 'b0').
    assert.deepEqual(offsets, [null, 'b0', 'dir0', 'x0', 'Ａ']);
    assert.ok(queries().every((q) => q.get('maxResults') === '1000'));
  });

  it('skips the startAfter key itself (startOffset is inclusive)', async () => {
    const page = await store.list(B, { startAfter: 'b/2.txt', maxKeys: 2 });
    assert.deepEqual(page.objects.map((o) => o.key), ['c.txt', 'x-y']);
    assert.equal(queries().at(-1)?.get('startOffset'), 'b/2.txt');
  });

  it('refuses a forged continuation token', async () => {
    await assert.rejects(store.list(B, { continuationToken: 'not-a-token!' }), (err: unknown) => isStorageError(err, 'InvalidKey'));
    assert.throws(() => decodeToken(Buffer.from('zkey').toString('base64url'), { endpoint: '' }), (err: unknown) => isStorageError(err, 'InvalidKey'));
    assert.deepEqual(decodeToken(encodeToken({ kind: 'prefix', key: 'b/' }), { endpoint: '' }), { kind: 'prefix', key: 'b/' });
  });

  it('computes the first string past a prefix', () => {
    assert.equal(pastPrefix('b/'), 'b0');
    assert.equal(pastPrefix('a\u{d7ff}'), 'a\u{e000}');
    assert.equal(pastPrefix('a\u{10ffff}'), 'b');
    assert.equal(pastPrefix('\u{10ffff}'), undefined);
  });
});
