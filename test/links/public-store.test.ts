import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { isStorageError } from '../../src/storage/errors.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { createPublicLinkStore, publicLinkLocation, publicLinkUrl } from '../../src/links/public-store.ts';
import { OBJECT, collect, startLinkServer, tableResolver, type LinkServer } from './public-fixture.ts';

const kind = (k: string, message?: RegExp) => (err: unknown) => isStorageError(err) && err.kind === k && (message?.test(err.message) ?? true);

describe('public-link store', () => {
  let srv: LinkServer;
  let store: ObjectStore;
  let bucket: string;
  const resolver = tableResolver({ 'images.example.test': ['127.0.0.1'] });
  before(async () => {
    srv = await startLinkServer();
    // The fixture name resolves to loopback, so it must be allow-listed explicitly.
    store = createPublicLinkStore({ allowHosts: ['images.example.test'], resolver, requestTimeoutMs: 200 });
    bucket = `http://images.example.test:${srv.port}`;
  });
  after(async () => {
    await store?.close();
    await srv?.close();
  });
  const last = () => srv.seen.at(-1);

  it('maps links to origin buckets and path+query keys, and back', () => {
    const url = new URL('https://user:pw@S3-us-west-2.amazonaws.com/test1/abc%20d.jpg?X-Amz-Signature=s#frag');
    const at = publicLinkLocation(url);
    assert.deepEqual(at, { bucket: 'https://s3-us-west-2.amazonaws.com', key: 'test1/abc%20d.jpg?X-Amz-Signature=s' });
    assert.equal(publicLinkUrl(at.bucket, at.key).href, 'https://s3-us-west-2.amazonaws.com/test1/abc%20d.jpg?X-Amz-Signature=s');
    assert.equal(publicLinkLocation(new URL('http://127.0.0.1:8080/a')).bucket, 'http://127.0.0.1:8080');
    for (const [b, k] of [['https://a.test/x', 'k'], ['ftp://a.test', 'k'], ['https://a.test', 'k#f'], ['nope', 'k']] as const) {
      assert.throws(() => publicLinkUrl(b, k), kind('InvalidKey'), `${b} ${k}`);
    }
  });

  it('reads a byte range with Range, keeping the host name for Host', async () => {
    const got = await store.get(bucket, 'a.bin', { range: { start: 10, end: 19 } });
    assert.deepEqual(await collect(got.body), OBJECT.subarray(10, 20));
    assert.deepEqual(got.range, { start: 10, end: 19 });
    assert.equal(got.info.size, OBJECT.length);
    assert.equal(got.info.etag, '"v1"');
    assert.equal(got.info.contentType, 'application/octet-stream');
    assert.equal(got.info.lastModified.toISOString(), '2025-01-01T00:00:00.000Z');
    assert.equal(last()?.headers.range, 'bytes=10-19');
    assert.equal(last()?.headers.host, `images.example.test:${srv.port}`);
    assert.match(String(last()?.headers['user-agent']), /^Stowage\//);
    assert.equal(last()?.headers['accept-encoding'], 'identity');
  });

  it('reads whole objects, open-ended ranges, ranges past the end and keys with a query', async () => {
    assert.deepEqual(await collect((await store.get(bucket, 'a.bin')).body), OBJECT);
    const tail = await store.get(bucket, 'a.bin', { range: { start: 995 } });
    assert.deepEqual(tail.range, { start: 995, end: 999 });
    assert.deepEqual(await collect(tail.body), OBJECT.subarray(995));
    const clamped = await store.get(bucket, 'a.bin', { range: { start: 990, end: 5000 } });
    assert.deepEqual(await collect(clamped.body), OBJECT.subarray(990));
    const v2 = await store.get(bucket, 'a.bin?v=2');
    assert.equal(v2.info.etag, '"v2"');
    assert.deepEqual(await collect(v2.body), OBJECT.subarray(0, 10));
    await assert.rejects(store.get(bucket, 'a.bin', { range: { start: 1000 } }), kind('InvalidRange'));
    await assert.rejects(store.get(bucket, 'a.bin', { range: { start: 5, end: 2 } }), kind('InvalidRange'));
  });

  it('trims the body itself when the server ignores Range', async () => {
    const got = await store.get(bucket, 'ignores-ranges', { range: { start: 100, end: 149 } });
    assert.equal(last()?.headers.range, 'bytes=100-149');
    assert.deepEqual(got.range, { start: 100, end: 149 });
    assert.deepEqual(await collect(got.body), OBJECT.subarray(100, 150));
    assert.equal(got.info.size, OBJECT.length);
    assert.match(got.info.etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/, 'a weak etag from size and Last-Modified');
    const end = await store.get(bucket, 'ignores-ranges', { range: { start: 900 } });
    assert.deepEqual(await collect(end.body), OBJECT.subarray(900));
    await assert.rejects(store.get(bucket, 'ignores-ranges', { range: { start: 1000 } }), kind('InvalidRange'));
  });

  it('trims a partial answer that starts before the asked range', async () => {
    const got = await store.get(bucket, 'aligned', { range: { start: 150, end: 179 } });
    assert.deepEqual(got.range, { start: 150, end: 179 });
    assert.deepEqual(await collect(got.body), OBJECT.subarray(150, 180));
    const short = await store.get(bucket, 'aligned', { range: { start: 250, end: 900 } });
    assert.deepEqual(short.range, { start: 250, end: 399 }, 'the range actually served');
    assert.deepEqual(await collect(short.body), OBJECT.subarray(250, 400));
    await assert.rejects(store.get(bucket, 'unknown-size', { range: { start: 0, end: 9 } }), kind('Unavailable', /Content-Range/));
  });

  it('heads with HEAD, or a one-byte GET when HEAD is refused', async () => {
    const info = await store.head(bucket, 'a.bin');
    assert.deepEqual({ size: info.size, etag: info.etag, bucket: info.bucket, key: info.key }, { size: 1000, etag: '"v1"', bucket, key: 'a.bin' });
    assert.equal(last()?.method, 'HEAD');
    const n = srv.seen.length;
    const probed = await store.head(bucket, 'no-head');
    assert.equal(probed.size, 1000);
    assert.equal(probed.etag, '"nh"');
    assert.deepEqual(srv.seen.slice(n).map((r) => `${r.method} ${r.headers.range ?? ''}`), ['HEAD ', 'GET bytes=0-0']);
    assert.equal((await store.head(bucket, 'empty')).size, 0);
    assert.equal(await store.exists(bucket, 'a.bin'), true);
    assert.equal(await store.exists(bucket, 'missing'), false);
  });

  it('maps statuses to storage error kinds', async () => {
    const cases: Array<[string, string]> = [
      ['missing', 'NotFound'], ['gone', 'NotFound'], ['forbidden', 'PermissionDenied'], ['unauthorized', 'PermissionDenied'],
      ['throttled', 'RateLimited'], ['busy', 'RateLimited'], ['broken', 'Unavailable'], ['teapot', 'Unavailable'],
    ];
    for (const [key, k] of cases) {
      await assert.rejects(store.get(bucket, key), kind(k, new RegExp(`link ${bucket}/${key} .*\\(HTTP \\d+\\)`)), key);
    }
    await assert.rejects(store.head(bucket, 'missing'), kind('NotFound'));
    await assert.rejects(store.get(bucket, 'gzip'), kind('Unavailable', /gzip-encoded/));
  });

  it('follows redirects up to the limit, only to http(s)', async () => {
    const n = srv.seen.length;
    const got = await store.get(bucket, 'r1', { range: { start: 0, end: 3 } });
    assert.deepEqual(await collect(got.body), OBJECT.subarray(0, 4));
    assert.deepEqual(srv.seen.slice(n).map((r) => `${r.path} ${r.headers.range}`), ['/r1 bytes=0-3', '/r2 bytes=0-3', '/a.bin bytes=0-3']);
    await assert.rejects(store.get(bucket, 'loop'), kind('Unavailable', /redirects more than 5 times/));
    await assert.rejects(store.get(bucket, 'to-ftp'), kind('PermissionDenied', /ftp: URL/));
    const strict = createPublicLinkStore({ allowHosts: ['images.example.test'], resolver, maxRedirects: 1 });
    await assert.rejects(strict.get(bucket, 'r1'), /redirects more than 1 times/);
    await strict.close();
  });

  it('times out on a server that never answers or stops mid-body', async () => {
    await assert.rejects(store.get(bucket, 'hang'), kind('Unavailable', /timed out: no answer within 200 ms/));
    const got = await store.get(bucket, 'stall');
    await assert.rejects(collect(got.body), kind('Unavailable', /stall stopped sending after 10 of 1000 bytes/));
  });

  it('reports a refused connection as Unavailable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const local = createPublicLinkStore({ allowHosts: ['127.0.0.1'] });
    await assert.rejects(local.get(`http://127.0.0.1:${port}`, 'a.bin'), kind('Unavailable', /cannot be reached \(ECONNREFUSED\)/));
    await local.close();
  });

  it('stops reading when the caller aborts', async () => {
    const ac = new AbortController();
    const got = await store.get(bucket, 'stall', { signal: ac.signal });
    ac.abort();
    await assert.rejects(collect(got.body));
    await assert.rejects(store.get(bucket, 'a.bin', { signal: ac.signal }), { name: 'AbortError' });
  });

  it('is read-only', async () => {
    assert.equal(store.provider, 'public');
    assert.deepEqual({ ...store.capabilities, maxObjectSize: 0 },
      { multipart: false, serverSideCopy: false, conditionalPut: false, presignedUrls: false, maxObjectSize: 0 });
    const ro = kind('NotSupported', /public links are read-only/);
    await assert.rejects(store.put(bucket, 'x', Readable.from([Buffer.from('x')])), ro);
    await assert.rejects(store.putFile(bucket, 'x', '/nonexistent'), ro);
    await assert.rejects(store.delete(bucket, 'a.bin'), ro);
    await assert.rejects(store.copy(bucket, 'a.bin', bucket, 'b'), ro);
    await assert.rejects(store.list(bucket), ro);
    await assert.rejects(store.createMultipart(bucket, 'x'), ro);
    await assert.rejects(store.ensureBucket(bucket), ro);
  });
});
