/**
 * Linked objects end to end on the Azure (Azurite) and Google (firebase-tools
 * emulator) peers: a connection added through `remote-storage.connections.add`,
 * images and videos registered by `azure://` / `google://` link, then read
 * with ranges through `*.download`, the item's storage path (key or signed
 * URL) and `remote-storage.download`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makeJpeg, makeVideo } from '../helpers/media-fixtures.ts';
import { startAzurite } from '../helpers/peers/azurite.ts';
import { startGcsEmulator, writeServiceAccount } from '../helpers/peers/gcs-emulator.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { createAzureStore } from '../../src/storage/providers/azure/index.ts';
import { createGcsStore } from '../../src/storage/providers/gcs/index.ts';

/** A running peer: a store to fill it, and the settings of a connection to it. */
interface LinkPeer {
  scheme: string;
  store: ObjectStore;
  connection: Record<string, unknown>;
  /** What must never appear in replies or logs. */
  secret: string | undefined;
  stop(): Promise<void>;
}

async function azurePeer(bucket: string): Promise<LinkPeer> {
  const peer = await startAzurite();
  const store = createAzureStore({ endpoint: peer.endpoint, accountName: peer.accountName, secret: peer.accountKey });
  return {
    scheme: 'azure', store, secret: peer.accountKey,
    connection: { provider: 'azure', endpoint: peer.endpoint, access_key: peer.accountName, secret_key: peer.accountKey, buckets: [bucket] },
    stop: async () => {
      await store.close();
      await peer.stop();
    },
  };
}

// The emulator serves some routes only to clients that see STORAGE_EMULATOR_HOST (set for this process alone).
async function googlePeer(bucket: string, dir: string): Promise<LinkPeer> {
  const emu = await startGcsEmulator();
  process.env['STORAGE_EMULATOR_HOST'] = emu.endpoint;
  const credentials = await writeServiceAccount(join(dir, 'gcs.json'));
  const store = createGcsStore({ endpoint: emu.endpoint, projectId: 'demo-test' });
  return {
    scheme: 'google', store, secret: undefined,
    connection: { provider: 'gcs', endpoint: emu.endpoint, credentials_path: credentials, buckets: [bucket] },
    stop: async () => {
      await store.close();
      await emu.stop();
      delete process.env['STORAGE_EMULATOR_HOST'];
    },
  };
}

/** The same, with the key uploaded inline (`credentials_json`, what the web page sends): a secret then. */
async function googleInlinePeer(bucket: string, dir: string): Promise<LinkPeer> {
  const peer = await googlePeer(bucket, dir);
  const json = await readFile(String(peer.connection['credentials_path']), 'utf8');
  const { credentials_path: _path, ...rest } = peer.connection;
  const privateKey = String((JSON.parse(json) as { private_key: string }).private_key);
  return { ...peer, secret: privateKey.split('\n')[3], connection: { ...rest, credentials_json: json } };
}

const peers: Record<string, (bucket: string, dir: string) => Promise<LinkPeer>> = { azure: azurePeer, google: googlePeer, 'google-inline': googleInlinePeer };

async function bytesOf(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

for (const [name, startPeer] of Object.entries(peers)) {
  describe(`${name} links through a connection added by the API`, () => {
    let t: TestApp;
    let peer: LinkPeer;
    let dir: string;
    let jpeg: Buffer;
    let webm: Buffer;
    const bucket = `links-${randomBytes(4).toString('hex')}`;
    const link = (key: string) => `${peer.scheme}://${bucket}/${key}`;
    const withKey = (headers: Record<string, string> = {}) => ({ 'x-api-key': t.adminKey, ...headers });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `stowage-links-${name}-`));
      peer = await startPeer(bucket, dir);
      jpeg = await makeJpeg(96, 64, { seed: 41 });
      webm = await readFile(await makeVideo(dir, { container: 'webm', width: 160, height: 120, seconds: 2, fps: 10 }));
      await peer.store.ensureBucket(bucket);
      await peer.store.put(bucket, 'photos/car 1.jpg', Readable.from([jpeg]), { size: jpeg.length, contentType: 'image/jpeg' });
      await peer.store.put(bucket, 'clips/road.webm', Readable.from([webm]), { size: webm.length });
      t = await startTestApp(catalogBackend('sqlite').url());
    });
    after(async () => {
      await t?.close();
      await peer?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('adds the connection, registers an image by link and serves it with ranges', async () => {
      const add = await t.call('remote-storage.connections.add', { name: `${name}-conn`, ...peer.connection });
      const text = await add.text();
      assert.equal(add.status, 200, text);
      if (peer.secret !== undefined) assert.ok(!text.includes(peer.secret), 'the reply never shows the secret');
      if (peer.scheme === 'google') {
        // The emulator answers 404 to every bucket lookup: a GCS store uses only buckets it was told exist.
        const served = t.app.services.links.list().find((c) => c.name === `${name}-conn`);
        await served?.store.ensureBucket(bucket);
      }
      const p = await t.ok('projects.add', { name: `${name}-images`, workspaceId: 1, type: 'images' });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
      const [img] = await t.ok('images.bulk.add', { datasetId: ds, images: [{ title: 'car.jpg', link: link('photos/car 1.jpg') }] });
      assert.deepEqual([img.width, img.height, img.size, img.mime], [96, 64, jpeg.length, 'image/jpeg']);
      assert.equal(img.pathOriginal, `/remote/${peer.scheme}/${bucket}/photos/car%201.jpg`);

      const dl = await fetch(`${t.baseUrl}/public/api/v3/images.download`, {
        method: 'POST', headers: withKey({ 'content-type': 'application/json', range: 'bytes=10-29' }), body: JSON.stringify({ id: img.id }),
      });
      assert.equal(dl.status, 206);
      assert.equal(dl.headers.get('content-range'), `bytes 10-29/${jpeg.length}`);
      assert.deepEqual(await bytesOf(dl), jpeg.subarray(10, 30));

      const viaPath = await fetch(img.fullStorageUrl, { headers: withKey({ range: 'bytes=0-99' }) });
      assert.equal(viaPath.status, 206);
      assert.equal(viaPath.headers.get('content-type'), 'image/jpeg');
      assert.ok(viaPath.headers.get('etag'));
      assert.ok(viaPath.headers.get('last-modified'));
      assert.deepEqual(await bytesOf(viaPath), jpeg.subarray(0, 100));

      const { url } = await t.ok('storage.sign', { path: img.pathOriginal });
      const signed = await fetch(url);
      assert.equal(signed.status, 200);
      assert.deepEqual(await bytesOf(signed), jpeg);
      const missing = await fetch(`${t.baseUrl}/remote/${peer.scheme}/${bucket}/photos/none.jpg`, { headers: withKey() });
      assert.equal(missing.status, 404);
      if (peer.secret !== undefined) assert.ok(!t.logs().includes(peer.secret), 'the secret never reaches the logs');
    });

    it('registers a WebM by link with its fileMeta and streams it from the bucket', async () => {
      const p = await t.ok('projects.add', { name: `${name}-videos`, workspaceId: 1, type: 'videos' });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
      const [video] = await t.ok('videos.bulk.add', { datasetId: ds, videos: [{ title: 'road.webm', link: link('clips/road.webm') }] });
      const meta = video.fileMeta;
      assert.deepEqual([meta.mime, meta.size, meta.width, meta.height, meta.framesCount, meta.codecName], ['video/webm', String(webm.length), 160, 120, 20, 'vp8']);
      assert.equal(Math.round(meta.duration), 2);
      const dl = await fetch(`${t.baseUrl}/public/api/v3/videos.download`, {
        method: 'POST', headers: withKey({ 'content-type': 'application/json', range: `bytes=-16` }), body: JSON.stringify({ id: video.id }),
      });
      assert.equal(dl.status, 206);
      assert.deepEqual(await bytesOf(dl), webm.subarray(webm.length - 16));
      const viaPath = await fetch(`${t.baseUrl}${video.pathOriginal}`, { headers: withKey({ range: 'bytes=4-7' }) });
      assert.equal(viaPath.headers.get('content-type'), 'video/webm', 'guessed from the key when the bucket has no type');
      assert.deepEqual(await bytesOf(viaPath), webm.subarray(4, 8));
      const remote = await fetch(`${t.baseUrl}/public/api/v3/remote-storage.download`, {
        method: 'POST', headers: withKey({ 'content-type': 'application/json', range: 'bytes=0-3' }), body: JSON.stringify({ link: link('clips/road.webm') }),
      });
      assert.equal(remote.status, 206);
      assert.deepEqual(await bytesOf(remote), webm.subarray(0, 4));
    });
  });
}
