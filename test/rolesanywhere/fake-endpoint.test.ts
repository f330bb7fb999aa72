/**
 * The fake CreateSession endpoint refuses what Roles Anywhere refuses, so a
 * session it hands out means the request was right: a changed byte, a wrong
 * serial, a skewed clock, an unsigned header, an expired or untrusted
 * certificate. It accepts the ARNs in the query as well as in the body.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { amzDate, signSessionRequest } from '../../src/rolesanywhere/signer.ts';
import type { FakeRolesAnywhere } from '../helpers/peers/rolesanywhere-fake.ts';
import { Clock, makeBundle, PROFILE_ARN, REGION, removeBundles, ROLE_ARN, startFake, TRUST_ANCHOR_ARN, type Bundle } from './fixtures.ts';

let rsa: Bundle;
let fake: FakeRolesAnywhere;
const clock = new Clock();
const arns = { profileArn: PROFILE_ARN, roleArn: ROLE_ARN, trustAnchorArn: TRUST_ANCHOR_ARN };

before(async () => {
  rsa = await makeBundle('rsa');
  fake = await startFake([rsa], { now: clock.now });
});

after(async () => {
  await fake?.close();
  await removeBundles();
});

interface Attempt {
  body?: string;
  query?: Record<string, string>;
  date?: number;
  bundle?: Bundle;
  /** Changes the signed request before it is sent. */
  tamper?: (r: { headers: Record<string, string>; body: string; path: string }) => void;
}

async function send(a: Attempt = {}): Promise<{ status: number; code: string | null; message: string }> {
  const bundle = a.bundle ?? rsa;
  const url = new URL(fake.endpoint);
  const body = a.body ?? JSON.stringify(arns);
  const signed = signSessionRequest({
    host: url.host, region: REGION, amzDate: amzDate(a.date ?? clock.ms), query: a.query, body, contentType: 'application/json',
    certificate: new X509Certificate(bundle.clientCert), privateKey: createPrivateKey(bundle.clientKey),
  });
  const request = { headers: { ...signed.headers }, body, path: `/sessions${signed.canonicalQuery === '' ? '' : `?${signed.canonicalQuery}`}` };
  a.tamper?.(request);
  delete request.headers['host'];
  const res = await fetch(new URL(request.path, fake.endpoint), { method: 'POST', headers: request.headers, body: request.body });
  const json = (await res.json()) as { message?: string };
  return { status: res.status, code: res.headers.get('x-amzn-errortype'), message: json.message ?? '' };
}

function refused(r: { status: number; code: string | null; message: string }, status: number, re: RegExp): void {
  assert.equal(r.status, status, r.message);
  assert.match(r.message, re);
  assert.match(r.code ?? '', status === 403 ? /^AccessDeniedException/u : /^ValidationException/u);
}

describe('fake CreateSession endpoint', () => {
  it('accepts a correct request, with the ARNs in the body or in the query', async () => {
    assert.equal((await send()).status, 201);
    assert.equal((await send({ body: '', query: arns })).status, 201);
  });

  it('refuses a request whose body, query or signed header changed after signing', async () => {
    refused(await send({ tamper: (r) => { r.body = r.body.replace('}', ' }'); } }), 403, /Signature does not match/u);
    refused(await send({ body: '', query: arns, tamper: (r) => { r.path = `${r.path}&extra=1`; } }), 403, /Signature does not match/u);
    refused(await send({ tamper: (r) => { r.headers['content-type'] = 'application/json; charset=utf-8'; } }), 403, /Signature does not match/u);
  });

  it('refuses a wrong serial, scope, algorithm or a missing signed header', async () => {
    refused(await send({ tamper: (r) => { r.headers['authorization'] = r.headers['authorization']!.replace(/Credential=\d+/u, 'Credential=1'); } }), 403, /credential serial 1 is not the certificate's/u);
    refused(await send({ tamper: (r) => { r.headers['authorization'] = r.headers['authorization']!.replace(REGION, 'us-east-1'); } }), 403, /region us-east-1 is not/u);
    refused(await send({ tamper: (r) => { r.headers['authorization'] = r.headers['authorization']!.replace('RSA', 'ECDSA'); } }), 403, /does not fit a rsa key/u);
    refused(await send({ tamper: (r) => { r.headers['authorization'] = r.headers['authorization']!.replace('host;', ''); } }), 403, /header host is not signed/u);
  });

  it('refuses a clock more than 15 minutes off, and a certificate outside its validity', async () => {
    refused(await send({ date: clock.ms - 16 * 60_000 }), 403, /X-Amz-Date is too far/u);
    assert.equal((await send({ date: clock.ms - 14 * 60_000 })).status, 201);
    const old = await makeBundle('rsa', { days: 1, now: clock.ms - 3 * 86_400_000 });
    const trusting = await startFake([old], { now: clock.now });
    try {
      const url = new URL(trusting.endpoint);
      const signed = signSessionRequest({
        host: url.host, region: REGION, amzDate: amzDate(clock.ms), body: JSON.stringify(arns), contentType: 'application/json',
        certificate: new X509Certificate(old.clientCert), privateKey: createPrivateKey(old.clientKey),
      });
      const { host: _host, ...headers } = signed.headers;
      const res = await fetch(new URL('/sessions', trusting.endpoint), { method: 'POST', headers, body: JSON.stringify(arns) });
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { message: string }).message, /outside its validity period/u);
    } finally {
      await trusting.close();
    }
  });

  it('refuses missing ARNs and an out-of-range duration as ValidationException', async () => {
    refused(await send({ body: JSON.stringify({ profileArn: PROFILE_ARN }) }), 400, /are required/u);
    refused(await send({ body: JSON.stringify({ ...arns, durationSeconds: 60 }) }), 400, /durationSeconds/u);
  });
});
