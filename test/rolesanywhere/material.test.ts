/**
 * Loading the certificate and key from what operators paste or point at, and
 * the errors that name the field when they are wrong. No message may contain
 * the private key.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSigningMaterial, serialOf } from '../../src/rolesanywhere/material.ts';
import { envFieldName, fileFieldName, type RolesAnywhereSettings } from '../../src/rolesanywhere/settings.ts';
import { isStorageError } from '../../src/storage/errors.ts';
import { makeBundle, removeBundles, settingsFor, type Bundle } from './fixtures.ts';

let rsa: Bundle;
let ec: Bundle;
const now = Date.now();
const b64 = (text: string) => Buffer.from(text).toString('base64');

before(async () => {
  [rsa, ec] = await Promise.all([makeBundle('rsa'), makeBundle('ec')]);
});
after(removeBundles);

function load(s: Partial<RolesAnywhereSettings>, at = now) {
  return loadSigningMaterial({ ...settingsFor(rsa, 'http://127.0.0.1:1'), ...s }, at, fileFieldName);
}

/** Asserts a ConfigInvalid whose message matches `re` and never holds a private key. */
function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isStorageError(err, 'ConfigInvalid'), String(err));
    assert.match(err.message, re);
    for (const key of [rsa.clientKey, ec.clientKey, rsa.caKey]) {
      assert.ok(!err.message.includes(key.split('\n')[1] ?? '-'), 'the message holds key material');
      assert.ok(!err.message.includes(b64(key).slice(0, 40)), 'the message holds base64 key material');
    }
    return true;
  });
}

describe('Roles Anywhere certificate and key loading', () => {
  it('reads PEM text, base64 of PEM (the seed UI), and file paths holding either', async () => {
    const b64File = join(rsa.dir, 'client.key.b64');
    await writeFile(b64File, `${b64(rsa.clientKey)}\n`);
    for (const s of [
      {},
      { certificate: rsa.clientCert, private_key: rsa.clientKey },
      { certificate: b64(rsa.clientCert), private_key: b64(rsa.clientKey) },
      { private_key: b64File },
    ]) {
      const m = load(s);
      assert.equal(m.certificate.serialNumber, new X509Certificate(rsa.clientCert).serialNumber);
      assert.equal(m.privateKey.asymmetricKeyType, 'rsa');
      assert.deepEqual(m.chain, []);
    }
  });

  it('reads RSA and EC keys as PKCS#8, SEC1 and PKCS#1', () => {
    const pkcs1 = createPrivateKey(rsa.clientKey).export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/u);
    assert.equal(load({ private_key: pkcs1 }).privateKey.asymmetricKeyType, 'rsa');
    const sec1 = createPrivateKey(ec.clientKey).export({ type: 'sec1', format: 'pem' }).toString();
    assert.match(sec1, /BEGIN EC PRIVATE KEY/u);
    const m = load({ certificate: ec.clientCert, private_key: sec1 });
    assert.equal(m.privateKey.asymmetricKeyType, 'ec');
    assert.equal(serialOf(m.certificate), BigInt(`0x${new X509Certificate(ec.clientCert).serialNumber}`).toString(10));
  });

  it('takes intermediates after the leaf and from certificate_chain, at most five', () => {
    const m = load({ certificate: `${rsa.clientCert}\n${ec.caCert}`, certificate_chain: rsa.caCert });
    assert.deepEqual(m.chain.map((c) => c.subject), [ec.caCert, rsa.caCert].map((p) => new X509Certificate(p).subject));
    refused(() => load({ certificate_chain: Array(6).fill(rsa.caCert).join('\n') }), /rolesanywhere\.certificate_chain: 6 intermediate certificates; .* at most 5/u);
  });

  it('refuses an expired or not yet valid certificate, naming the field and the date', () => {
    const validTo = new X509Certificate(rsa.clientCert).validToDate;
    refused(() => load({}, validTo.getTime() + 1000), new RegExp(`rolesanywhere\\.certificate expired on ${validTo.toISOString()}`, 'u'));
    refused(() => load({}, now - 86_400_000), /rolesanywhere\.certificate is not valid yet: valid from /u);
  });

  it('refuses a key of another pair, of another type, or encrypted', () => {
    refused(() => load({ private_key: ec.keyPath }), /rolesanywhere\.private_key does not match rolesanywhere\.certificate \(serial \d+\)/u);
    refused(() => load({ private_key: rsa.caKey }), /rolesanywhere\.private_key does not match/u);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    refused(() => load({ private_key: ed }), /rolesanywhere\.private_key: wrong key type ed25519: IAM Roles Anywhere signs with RSA or EC keys/u);
    const encrypted = createPrivateKey(rsa.clientKey).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    refused(() => load({ private_key: encrypted }), /rolesanywhere\.private_key: the key is encrypted/u);
    refused(() => load({ private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }), /rolesanywhere\.private_key: not a PEM private key/u);
  });

  it('refuses the CA certificate in place of the client certificate', () => {
    refused(() => load({ certificate: rsa.caCert, private_key: rsa.caKey }), /rolesanywhere\.certificate is a CA certificate .*client\.crt/u);
  });

  it('names unreadable files: the certificate path is shown, a key that is not a path never is', () => {
    refused(() => load({ certificate: '/nonexistent/client.crt' }), /rolesanywhere\.certificate: cannot read \/nonexistent\/client\.crt \(ENOENT\)/u);
    refused(() => load({ private_key: '/nonexistent/client.key' }), /rolesanywhere\.private_key: cannot read \/nonexistent\/client\.key \(ENOENT\)/u);
    // A DER key pasted as base64 is neither PEM nor a path: it must not be echoed.
    const der = createPrivateKey(rsa.clientKey).export({ type: 'pkcs8', format: 'der' }).toString('base64');
    refused(() => load({ private_key: der }), /rolesanywhere\.private_key: cannot read the file it names/u);
    assert.throws(() => load({ private_key: der }), (err: Error) => !err.message.includes(der.slice(0, 40)));
    refused(() => load({ certificate: rsa.keyPath }), /rolesanywhere\.certificate: no certificate found/u);
  });

  it('names the .env variables for the primary storage', () => {
    assert.throws(
      () => loadSigningMaterial({ ...settingsFor(rsa, 'http://127.0.0.1:1'), private_key: ec.keyPath }, now, envFieldName),
      /STORAGE_ROLESANYWHERE_PRIVATE_KEY does not match STORAGE_ROLESANYWHERE_CERTIFICATE/u,
    );
  });
});
