/**
 * Listing of the Azure provider compared with the local store (the reference
 * provider) on the same keys. Azure lists in UTF-16 order; the keys mix
 * astral characters (😀) with U+E000–U+FFFF ones (Ａ, U+E000) at every depth,
 * exactly where UTF-16 and UTF-8 order disagree, so page boundaries fall
 * inside the runs the provider has to reorder.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createAzureStore } from '../../src/storage/providers/azure/index.ts';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import type { ListOptions, ObjectStore } from '../../src/storage/object-store.ts';
import { startAzurite, type AzuritePeer } from '../helpers/peers/azurite.ts';

const BUCKET = 'list-tests';
const UNITS = ['a', 'Z', '-', '😀', 'Ａ', '\u{E000}', '𝒳'];

/** Deterministic keys: 1-3 segments of 1-2 units; leaves end in `.t` so no key is also a folder (local layout). */
function makeKeys(count: number): string[] {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const segment = () => Array.from({ length: 1 + next(2) }, () => UNITS[next(UNITS.length)]).join('');
  const keys = new Set<string>();
  while (keys.size < count) {
    const dirs = Array.from({ length: next(3) }, segment);
    keys.add([...dirs, `${segment()}.t`].join('/'));
  }
  return [...keys];
}

let peer: AzuritePeer;
let azure: ObjectStore;
let local: ObjectStore;
let root: string;
const keys = makeKeys(60);

before(async () => {
  peer = await startAzurite();
  azure = createAzureStore({ endpoint: peer.endpoint, accountName: peer.accountName, secret: peer.accountKey });
  root = await mkdtemp(join(tmpdir(), 'stowage-azure-list-'));
  local = createLocalStore({ root });
  for (const store of [azure, local]) {
    await store.ensureBucket(BUCKET);
    for (const key of keys) await store.put(BUCKET, key, Readable.from([Buffer.from(key)]));
  }
});
after(async () => {
  await azure?.close();
  await local?.close();
  await peer?.stop();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

/** Every page of a listing, checking page sizes; returns the concatenation. */
async function listAll(store: ObjectStore, options: ListOptions): Promise<{ objects: string[]; prefixes: string[] }> {
  const objects: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.list(BUCKET, { ...options, continuationToken: token });
    assert.ok(page.objects.length + page.prefixes.length <= (options.maxKeys ?? 1000), 'page larger than maxKeys');
    objects.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.prefixes);
    token = page.nextToken;
    assert.ok(++pages <= keys.length + 2, 'pagination does not terminate');
  } while (token !== undefined);
  return { objects, prefixes };
}

async function same(options: ListOptions): Promise<void> {
  const expected = await listAll(local, options);
  const actual = await listAll(azure, options);
  assert.deepEqual(actual, expected, JSON.stringify(options));
}

describe('Azure listing order matches the local store', () => {
  it('the keys really disagree between UTF-16 and UTF-8 order', () => {
    const utf16 = [...keys].sort();
    const utf8 = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.notDeepEqual(utf16, utf8);
  });

  for (const maxKeys of [1, 3, 7, 1000]) {
    it(`flat listing, maxKeys ${maxKeys}`, async () => {
      await same({ maxKeys });
    });
    it(`delimiter listing, maxKeys ${maxKeys}`, async () => {
      await same({ maxKeys, delimiter: '/' });
    });
  }

  it('prefixes, including ones ending inside a surrogate-pair character run', async () => {
    for (const prefix of ['a', '😀', 'Ａ', 'a/', '😀/', '\u{E000}', 'Z-', 'nothing']) {
      await same({ prefix, maxKeys: 3 });
      await same({ prefix, maxKeys: 4, delimiter: '/' });
    }
  });

  it('startAfter, flat and with a delimiter', async () => {
    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const startAfter of [sorted[0], sorted[17], sorted[60], sorted.at(-1), 'Ａ', '😀', 'a/']) {
      await same({ startAfter, maxKeys: 5 });
      await same({ startAfter, maxKeys: 5, delimiter: '/' });
    }
  });

  it('other delimiters', async () => {
    await same({ delimiter: '-', maxKeys: 4 });
    // Azurite answers 500 to an astral delimiter such as 😀; a BMP one works.
    await same({ delimiter: 'Ａ', maxKeys: 4 });
  });

  it('rejects a continuation token it did not make', async () => {
    await assert.rejects(azure.list(BUCKET, { continuationToken: 'bm90LWEtdG9rZW4' }), { kind: 'InvalidKey' });
  });
});
