import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { isStorageError } from '../../src/storage/errors.ts';
import { checkHost, classifyAddress, isPublicAddress, pinnedLookup, type Resolver } from '../../src/links/ssrf-guard.ts';

/** A resolver answering from a table; no real DNS is ever asked. */
function tableResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (host: string) => {
    calls.push(host);
    const addresses = table[host];
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

const REFUSED: Array<[string, string]> = [
  ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['::1', 'loopback'], ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['10.0.0.1', 'private'], ['10.255.255.255', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'], ['fc00::1', 'private'], ['fd12:3456::1', 'private'], ['fec0::1', 'private'],
  ['64:ff9b:1::1', 'private'],
  ['169.254.169.254', 'link-local'], ['169.254.0.1', 'link-local'], ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['ff02::1', 'multicast'], ['ff0e::1', 'multicast'],
  ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'], ['::', 'unspecified'],
  ['100.64.0.1', 'carrier-grade NAT'], ['100.127.255.255', 'carrier-grade NAT'],
  ['198.18.0.1', 'benchmarking'], ['198.19.255.255', 'benchmarking'],
  ['240.0.0.1', 'reserved'], ['254.1.1.1', 'reserved'], ['255.255.255.255', 'broadcast'],
  ['192.0.0.8', 'reserved'], ['192.88.99.1', 'reserved'], ['100::1', 'reserved'], ['2001::1', 'reserved'],
  ['2001:2::1', 'reserved'], ['4000::1', 'reserved'], ['::ffff:0:1.2.3.4', 'reserved'],
  ['192.0.2.1', 'documentation'], ['198.51.100.7', 'documentation'], ['203.0.113.9', 'documentation'],
  ['2001:db8::1', 'documentation'], ['3fff::1', 'documentation'],
  // IPv6 forms embedding an IPv4 address are judged by that address.
  ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'link-local'], ['0:0:0:0:0:ffff:192.168.0.1', 'private'],
  ['64:ff9b::127.0.0.1', 'loopback'], ['64:ff9b::a01:203', 'private'], ['64:ff9b::169.254.169.254', 'link-local'],
  ['2002:7f00:1::', 'loopback'], ['2002:a00:1::1', 'private'], ['2002:c0a8:101::', 'private'],
  ['::127.0.0.1', 'loopback'], ['::10.0.0.1', 'private'], ['::8.8.8.8', 'reserved'],
];

const PUBLIC = [
  '8.8.8.8', '1.1.1.1', '93.184.215.14', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1',
  '169.253.255.255', '198.17.255.255', '198.20.0.1', '223.255.255.255', '11.0.0.1', '192.169.0.1',
  '2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1',
  '2001:4860:4860::8888',
];

describe('isPublicAddress', () => {
  for (const [ip, cls] of REFUSED) {
    it(`refuses ${ip} (${cls})`, () => {
      assert.equal(classifyAddress(ip), cls);
      assert.equal(isPublicAddress(ip), false);
    });
  }
  for (const ip of PUBLIC) it(`accepts ${ip}`, () => assert.equal(isPublicAddress(ip), true));
  it('refuses text that is not an IP address', () => {
    for (const bad of ['', 'localhost', '127.1', '0x7f.0.0.1', '2130706433', '1.2.3.4.5', ':::1', '::ffff:999.0.0.1']) {
      assert.equal(classifyAddress(bad), 'invalid', bad);
    }
  });
});

describe('checkHost', () => {
  const resolver = tableResolver({
    'images.example.test': ['93.184.215.14', '2606:4700:4700::1111'],
    'mixed.example.test': ['93.184.215.14', '10.1.2.3'],
    'mixed6.example.test': ['2606:4700:4700::1111', '::ffff:127.0.0.1'],
    'internal.example.test': ['127.0.0.1'],
    'metadata.example.test': ['169.254.169.254'],
    'empty.example.test': [],
  });

  it('approves a name whose every address is public, returning the first', async () => {
    const ok = await checkHost('Images.Example.Test.', { allowHosts: [], resolver });
    assert.deepEqual(ok, { host: 'images.example.test', address: '93.184.215.14', family: 4 });
  });

  it('refuses a name resolving to a mix of public and private addresses', async () => {
    await assert.rejects(checkHost('mixed.example.test', { allowHosts: [], resolver }), (err) =>
      isStorageError(err, 'PermissionDenied') &&
      /link host mixed\.example\.test resolves to a private address \(10\.1\.2\.3\); allow it with LINKS_ALLOW_HOSTS/.test(err.message));
    await assert.rejects(checkHost('mixed6.example.test', { allowHosts: [], resolver }), /loopback address \(::ffff:127\.0\.0\.1\)/);
  });

  it('refuses names resolving to loopback or cloud metadata, and IP literals without asking DNS', async () => {
    await assert.rejects(checkHost('internal.example.test', { allowHosts: [], resolver }), /resolves to a loopback address/);
    await assert.rejects(checkHost('metadata.example.test', { allowHosts: [], resolver }), /resolves to a link-local address/);
    const before = resolver.calls.length;
    await assert.rejects(checkHost('127.0.0.1', { allowHosts: [], resolver }),
      { message: 'link host 127.0.0.1 resolves to a loopback address; allow it with LINKS_ALLOW_HOSTS' });
    await assert.rejects(checkHost('[::1]', { allowHosts: [], resolver }), /link host ::1 resolves to a loopback address/);
    await assert.rejects(checkHost('10.1.2.3', { allowHosts: [], resolver }), /private address/);
    assert.equal(resolver.calls.length, before);
  });

  it('lets allow-listed hosts resolve anywhere, matching names exactly', async () => {
    assert.equal((await checkHost('internal.example.test', { allowHosts: ['internal.example.test'], resolver })).address, '127.0.0.1');
    assert.equal((await checkHost('[::1]', { allowHosts: ['::1'], resolver })).family, 6);
    assert.equal((await checkHost('127.0.0.1', { allowHosts: ['127.0.0.1'], resolver })).address, '127.0.0.1');
    await assert.rejects(checkHost('internal.example.test', { allowHosts: ['example.test', 'other.example.test'], resolver }));
  });

  it('reports names that do not resolve as Unavailable', async () => {
    await assert.rejects(checkHost('nowhere.example.test', { allowHosts: [], resolver }),
      (err) => isStorageError(err, 'Unavailable') && /cannot be resolved \(ENOTFOUND\)/.test(err.message));
    await assert.rejects(checkHost('empty.example.test', { allowHosts: [], resolver }), /resolves to no address/);
  });
});

describe('pinnedLookup', () => {
  const lookup = pinnedLookup({ host: 'images.example.test', address: '93.184.215.14', family: 4 });
  const call = (host: string, all: boolean) => new Promise<{ err: Error | null; address: string | LookupAddress[]; family?: number | undefined }>(
    (resolve) => lookup(host, { all }, (err, address, family) => resolve({ err, address, family })),
  );

  it('answers with the approved address only, in both callback forms', async () => {
    assert.deepEqual(await call('images.example.test', false), { err: null, address: '93.184.215.14', family: 4 });
    assert.deepEqual(await call('IMAGES.example.test', true), { err: null, address: [{ address: '93.184.215.14', family: 4 }], family: undefined });
  });

  it('fails for any other name', async () => {
    const { err } = await call('evil.example.test', false);
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOTFOUND');
  });
});
