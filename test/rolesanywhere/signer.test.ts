/**
 * The CreateSession signer: the published vector (spec.md §11) byte for byte,
 * and what the vector does not cover (ECDSA, chains, query encoding).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  algorithmFor, amzDate, canonicalHeaderValue, canonicalQueryString, ECDSA_ALGORITHM, RSA_ALGORITHM, sha256Hex, signSessionRequest,
} from '../../src/rolesanywhere/signer.ts';
import { makeBundle, removeBundles, VECTOR_DIR } from './fixtures.ts';

after(removeBundles);

interface Vector {
  certificate: string;
  privateKey: string;
  algorithm: string;
  host: string;
  region: string;
  xAmzDate: string;
  query: Record<string, string>;
  body: string;
  signedHeaders: string;
  sha256OfCanonicalRequest: string;
  authorization: string;
}

describe('CreateSession signer', () => {
  it('reproduces the published vector byte for byte (Authorization and canonical request hash)', () => {
    const v = JSON.parse(readFileSync(join(VECTOR_DIR, 'vector.json'), 'utf8')) as Vector;
    const signed = signSessionRequest({
      host: v.host,
      region: v.region,
      amzDate: v.xAmzDate,
      query: v.query,
      body: v.body,
      certificate: new X509Certificate(readFileSync(join(VECTOR_DIR, v.certificate))),
      privateKey: createPrivateKey(readFileSync(join(VECTOR_DIR, v.privateKey))),
    });
    assert.equal(signed.canonicalRequestHash, v.sha256OfCanonicalRequest);
    assert.equal(signed.authorization, v.authorization);
    assert.ok(signed.authorization.startsWith(`${v.algorithm} `));
    assert.match(signed.authorization, new RegExp(`SignedHeaders=${v.signedHeaders},`));
    assert.equal(signed.headers['authorization'], v.authorization);
    assert.equal(signed.headers['x-amz-date'], v.xAmzDate);
  });

  it('signs with ECDSA (DER signature) and sends the chain in one signed header', async () => {
    const ec = await makeBundle('ec');
    const rsa = await makeBundle('rsa');
    const certificate = new X509Certificate(ec.clientCert);
    const signed = signSessionRequest({
      host: '127.0.0.1:8443', region: 'eu-central-1', amzDate: '20240102T030405Z', body: '{"a":1}', contentType: 'application/json',
      certificate, chain: [new X509Certificate(ec.caCert), new X509Certificate(rsa.caCert)], privateKey: createPrivateKey(ec.clientKey),
    });
    const m = /^AWS4-X509-ECDSA-SHA256 Credential=(\d+)\/20240102\/eu-central-1\/rolesanywhere\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/u.exec(signed.authorization);
    assert.ok(m, signed.authorization);
    assert.equal(m[1], BigInt(`0x${certificate.serialNumber}`).toString(10));
    assert.equal(m[2], 'content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain');
    assert.equal(signed.headers['x-amz-x509-chain'], [ec.caCert, rsa.caCert].map((p) => new X509Certificate(p).raw.toString('base64')).join(','));
    // DER SEQUENCE{r, s}, verifiable as is.
    assert.equal(m[3]?.slice(0, 2), '30');
    assert.ok(verify('sha256', Buffer.from(signed.stringToSign), certificate.publicKey, Buffer.from(m[3] ?? '', 'hex')));
    assert.equal(signed.stringToSign.split('\n')[3], sha256Hex(signed.canonicalRequest));
    assert.ok(signed.canonicalRequest.endsWith(`\n${sha256Hex('{"a":1}')}`));
  });

  it('chooses the algorithm by key type and refuses other keys', () => {
    const { privateKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const { privateKey: ec } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const { privateKey: ed } = generateKeyPairSync('ed25519');
    assert.equal(algorithmFor(rsa), RSA_ALGORITHM);
    assert.equal(algorithmFor(ec), ECDSA_ALGORITHM);
    assert.throws(() => algorithmFor(ed), /RSA or EC keys, not ed25519/u);
  });

  it('encodes the query as RFC 3986 (also !\'()*), sorted by name', () => {
    assert.equal(canonicalQueryString({ b: "it's (a) test*!", a: 'arn:aws:x/y z', 'c~': '-_.~' }), 'a=arn%3Aaws%3Ax%2Fy%20z&b=it%27s%20%28a%29%20test%2A%21&c~=-_.~');
    assert.equal(canonicalQueryString({}), '');
  });

  it('trims header values and collapses runs of spaces', () => {
    assert.equal(canonicalHeaderValue('  application/json   ;  charset=utf-8 '), 'application/json ; charset=utf-8');
  });

  it('formats X-Amz-Date as UTC YYYYMMDDTHHMMSSZ', () => {
    assert.equal(amzDate(Date.UTC(2000, 0, 1, 1, 1, 1, 999)), '20000101T010101Z');
  });
});
