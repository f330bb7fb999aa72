import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { isStorageError } from '../../src/storage/errors.ts';
import { createPublicLinkStore, type RequestFn } from '../../src/links/public-store.ts';
import { OBJECT, collect, tableResolver } from './public-fixture.ts';

// Self-signed certificate for images.example.test (valid until 2125), made with
// openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 36500 -addext subjectAltName=DNS:images.example.test
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzLhREJfWCCHl+8F5
h1IhQQB6PN/NMl5WMgtLQQeDc7ShRANCAAQtrBy6jWfh1e6lpRHfOjJmGE1ezcHD
zc8dUttzblx3TIpDXXHltBcI8ffF3xJLggs5kTZsqdBJWuuEY+14hvLp
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUEZjf2LMVKNvtijDa1cnJv6pZErAwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTaW1hZ2VzLmV4YW1wbGUudGVzdDAgFw0yNjExMjQwNzQ1MzBa
GA8yMTI2MTAzMTA3NDUzMFowHjEcMBoGA1UEAwwTaW1hZ2VzLmV4YW1wbGUudGVz
dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABC2sHLqNZ+HV7qWlEd86MmYYTV7N
wcPNzx1S23NuXHdMikNdceW0Fwjx98XfEkuCCzmRNmyp0Ela64Rj7XiG8umjczBx
MB0GA1UdDgQWBBSQP5D93ruqZl6zNzbNt2uNg8iyaDAfBgNVHSMEGDAWgBSQP5D9
3ruqZl6zNzbNt2uNg8iyaDAPBgNVHRMBAf8EBTADAQH/MB4GA1UdEQQXMBWCE2lt
YWdlcy5leGFtcGxlLnRlc3QwCgYIKoZIzj0EAwIDSAAwRQIhAJdFpVuEPvFxVRXh
H9LUgcEbQy/a3vlKF3zII4f8doSnAiBg7/J7wZ54H7O5oSY5W7AKKYmLycoqur6M
ylRTE4sxBQ==
-----END CERTIFICATE-----`;

/** https.request trusting the test certificate; everything else (pinned lookup, SNI) is the store's. */
const trusting: RequestFn = (options) => https.request({ ...options, ca: CERT });

describe('public-link store over https', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ sni: unknown; host: unknown }> = [];
  before(async () => {
    server = createServer({ key: KEY, cert: CERT }, (req, res) => {
      seen.push({ sni: (req.socket as TLSSocket).servername, host: req.headers.host });
      res.writeHead(206, { 'content-range': `bytes 0-3/${OBJECT.length}`, 'content-length': 4 });
      res.end(OBJECT.subarray(0, 4));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('connects to the pinned address with the link host as SNI, Host and certificate name', async () => {
    const resolver = tableResolver({ 'images.example.test': ['127.0.0.1'] });
    const store = createPublicLinkStore({ allowHosts: ['images.example.test'], resolver, request: trusting });
    const got = await store.get(`https://images.example.test:${port}`, 'a.bin', { range: { start: 0, end: 3 } });
    assert.deepEqual(await collect(got.body), OBJECT.subarray(0, 4));
    assert.deepEqual(seen, [{ sni: 'images.example.test', host: `images.example.test:${port}` }]);
    await store.close();
  });

  it('fails certificate checks for another name, even on an allow-listed address', async () => {
    const store = createPublicLinkStore({ allowHosts: ['127.0.0.1'], request: trusting });
    await assert.rejects(store.get(`https://127.0.0.1:${port}`, 'a.bin'),
      (err) => isStorageError(err, 'Unavailable') && /cannot be reached \(ERR_TLS_CERT_ALTNAME_INVALID\)/.test(err.message));
    await store.close();
  });
});
