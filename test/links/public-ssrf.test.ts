import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import * as http from 'node:http';
import type { RequestOptions } from 'node:https';
import { isStorageError } from '../../src/storage/errors.ts';
import { createPublicLinkStore, type RequestFn } from '../../src/links/public-store.ts';
import { OBJECT, collect, startLinkServer, tableResolver, type LinkServer } from './public-fixture.ts';

const denied = (message: RegExp) => (err: unknown) => isStorageError(err, 'PermissionDenied') && message.test(err.message);

/** A request function that fails the test: the guard must refuse before any connection. */
const noConnection: RequestFn = (options) => assert.fail(`a connection to ${String(options.hostname)} was attempted`);

describe('public-link store SSRF guard', () => {
  let srv: LinkServer;
  before(async () => { srv = await startLinkServer(); });
  after(async () => { await srv?.close(); });

  it('refuses a DNS name resolving to loopback by default, without connecting', async () => {
    const resolver = tableResolver({ 'internal.example.test': ['127.0.0.1'] });
    const store = createPublicLinkStore({ allowHosts: [], resolver });
    const n = srv.seen.length;
    await assert.rejects(store.get(`http://internal.example.test:${srv.port}`, 'a.bin'),
      denied(/^link host internal\.example\.test resolves to a loopback address \(127\.0\.0\.1\); allow it with LINKS_ALLOW_HOSTS$/));
    await assert.rejects(store.head(`http://internal.example.test:${srv.port}`, 'a.bin'), denied(/loopback/));
    await assert.rejects(store.exists(`http://internal.example.test:${srv.port}`, 'a.bin'), denied(/loopback/));
    assert.equal(srv.seen.length, n, 'the server saw no request');
    await store.close();
  });

  it('refuses metadata, loopback and private IP literals without any connection attempt', async () => {
    const store = createPublicLinkStore({ allowHosts: [], request: noConnection, resolver: tableResolver({}) });
    const cases: Array<[string, RegExp]> = [
      ['http://169.254.169.254', /link host 169\.254\.169\.254 resolves to a link-local address/],
      [`http://[::1]:${srv.port}`, /link host ::1 resolves to a loopback address/],
      ['http://10.1.2.3', /link host 10\.1\.2\.3 resolves to a private address/],
      [`http://127.0.0.1:${srv.port}`, /link host 127\.0\.0\.1 resolves to a loopback address; allow it with LINKS_ALLOW_HOSTS/],
      ['http://[::ffff:127.0.0.1]', /loopback/],
      ['http://0.0.0.0', /unspecified/],
      // WHATWG URL parsing turns these spellings into 127.0.0.1 before the guard sees them.
      ['http://2130706433', /loopback/],
      ['http://0x7f.1', /loopback/],
    ];
    for (const [bucket, message] of cases) {
      await assert.rejects(store.get(new URL(bucket).origin, 'latest/meta-data/'), denied(message), bucket);
    }
    await store.close();
  });

  it('refuses a redirect to a loopback host that is not allow-listed, before connecting to it', async () => {
    const resolver = tableResolver({ 'images.example.test': ['127.0.0.1'], 'internal.example.test': ['127.0.0.1'] });
    const store = createPublicLinkStore({ allowHosts: ['images.example.test'], resolver });
    const bucket = `http://images.example.test:${srv.port}`;
    for (const target of [`http://internal.example.test:${srv.port}/secret`, `http://127.0.0.1:${srv.port}/secret`, `http://[::1]:${srv.port}/secret`]) {
      const key = `redirect?to=${encodeURIComponent(target)}`;
      await assert.rejects(store.get(bucket, key), denied(/^redirected to http:\/\/.*\/secret: link host .* resolves to a loopback address/), target);
    }
    assert.ok(!srv.seen.some((r) => r.path === '/secret'), 'the redirect target was never requested');
    await store.close();
  });

  it('connects to the address the guard approved, even when DNS answers differently later (rebinding)', async () => {
    const answers = [['93.184.215.14'], ['127.0.0.1']];
    const resolver = tableResolver({ 'rebind.example.test': () => answers.shift() ?? ['127.0.0.1'] });
    const lookups: unknown[] = [];
    // Public addresses cannot be reached from tests: record what the pinned lookup answers, then send the request to the fixture.
    const request: RequestFn = (options: RequestOptions) => {
      const lookup = options.lookup;
      assert.ok(lookup !== undefined, 'a pinned lookup is passed to http.request');
      for (const all of [false, true]) {
        lookup(String(options.hostname), { all }, (err, address: string | LookupAddress[], family?: number) => lookups.push({ err, address, family }));
      }
      lookup('elsewhere.example.test', {}, (err) => lookups.push((err as NodeJS.ErrnoException).code));
      return http.request({ ...options, hostname: '127.0.0.1', lookup: undefined, agent: false });
    };
    const store = createPublicLinkStore({ allowHosts: [], resolver, request });
    const bucket = `http://rebind.example.test:${srv.port}`;
    const got = await store.get(bucket, 'a.bin', { range: { start: 0, end: 9 } });
    assert.deepEqual(await collect(got.body), OBJECT.subarray(0, 10));
    assert.deepEqual(lookups, [
      { err: null, address: '93.184.215.14', family: 4 },
      { err: null, address: [{ address: '93.184.215.14', family: 4 }], family: undefined },
      'ENOTFOUND',
    ]);
    assert.deepEqual(resolver.calls, ['rebind.example.test'], 'resolved once per request');
    // The next request resolves again and now sees loopback: refused.
    await assert.rejects(store.get(bucket, 'a.bin'), denied(/rebind\.example\.test resolves to a loopback address/));
    await store.close();
  });
});
