/**
 * The Roles Anywhere credential source against the fake CreateSession
 * endpoint (which verifies every request as the service does), on a clock the
 * test moves: sessions with RSA and EC keys and with a chain, renewal five
 * minutes before expiry (one at a time), failed renewals that keep the valid
 * credentials, rotated files, and the errors an operator sees.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REFRESH_BEFORE_MS, RETRY_FIRST_MS, RolesAnywhereCredentials, type RolesAnywhereOptions } from '../../src/rolesanywhere/credentials.ts';
import type { RolesAnywhereSettings } from '../../src/rolesanywhere/settings.ts';
import { isStorageError } from '../../src/storage/errors.ts';
import type { FakeRolesAnywhere } from '../helpers/peers/rolesanywhere-fake.ts';
import { Clock, makeBundle, makeChain, MemoryLogger, removeBundles, ROLE_ARN, settingsFor, startFake, type Bundle } from './fixtures.ts';

const SESSION_SECONDS = 900;
let rsa: Bundle;
let ec: Bundle;
let untrusted: Bundle;
let fake: FakeRolesAnywhere;
const clock = new Clock();

before(async () => {
  [rsa, ec, untrusted] = await Promise.all([makeBundle('rsa'), makeBundle('ec'), makeBundle('ec')]);
  fake = await startFake([rsa, ec], { now: clock.now, profile: { durationSeconds: SESSION_SECONDS } });
});

after(async () => {
  await fake?.close();
  await removeBundles();
});

function source(settings: RolesAnywhereSettings, logger = new MemoryLogger(), options: RolesAnywhereOptions = {}): RolesAnywhereCredentials {
  return new RolesAnywhereCredentials(settings, { now: clock.now, logger, ...options });
}

const decimalSerial = (pem: string) => BigInt(`0x${new X509Certificate(pem).serialNumber}`).toString(10);

/** Moves the clock to just inside the renewal window of credentials expiring at `expiration`. */
function enterRenewalWindow(expiration: Date): void {
  clock.ms = expiration.getTime() - REFRESH_BEFORE_MS + 1000;
}

describe('IAM Roles Anywhere credentials', () => {
  it('gets a session signed with an RSA key and one signed with an EC key', async () => {
    for (const [bundle, algorithm] of [[rsa, 'AWS4-X509-RSA-SHA256'], [ec, 'AWS4-X509-ECDSA-SHA256']] as const) {
      const c = await source(settingsFor(bundle, fake.endpoint)).get();
      const session = fake.accepted.at(-1);
      assert.equal(session?.accessKeyId, c.accessKeyId);
      assert.equal(session?.algorithm, algorithm);
      assert.equal(session?.serial, decimalSerial(bundle.clientCert));
      assert.equal(session?.roleArn, ROLE_ARN);
      assert.equal(c.expiration.getTime(), clock.ms - (clock.ms % 1000) + SESSION_SECONDS * 1000);
      assert.ok(c.sessionToken.length > 0);
    }
  });

  it('sends intermediates in X-Amz-X509-Chain, which the fake follows to the CA', async () => {
    const chained = await makeChain(ec, clock.ms);
    const settings = { ...settingsFor(ec, fake.endpoint), certificate: chained.leafCert, private_key: chained.leafKey, certificate_chain: chained.intermediateCert };
    const c = await source(settings).get();
    assert.equal(fake.accepted.at(-1)?.accessKeyId, c.accessKeyId);
    assert.equal(fake.accepted.at(-1)?.serial, decimalSerial(chained.leafCert));
    const withoutChain = source({ ...settings, certificate_chain: undefined });
    await assert.rejects(withoutChain.get(), /HTTP 403 AccessDeniedException: Untrusted Signing Certificate/u);
  });

  it('keeps a session until five minutes before it expires, then renews it once for all callers', async () => {
    const creds = source(settingsFor(rsa, fake.endpoint));
    const first = await creds.get();
    clock.ms = first.expiration.getTime() - REFRESH_BEFORE_MS - 1000;
    assert.equal((await creds.get()).accessKeyId, first.accessKeyId);
    assert.equal(creds.sessions, 1);
    const before = fake.accepted.length;
    clock.advance(2000);
    const all = await Promise.all(Array.from({ length: 10 }, () => creds.get()));
    assert.equal(new Set(all.map((c) => c.accessKeyId)).size, 1);
    assert.notEqual(all[0]?.accessKeyId, first.accessKeyId);
    assert.equal(fake.accepted.length, before + 1, 'more than one CreateSession for concurrent callers');
    assert.equal(creds.sessions, 2);
  });

  it('keeps the valid credentials when a renewal fails, backs off, logs why, and recovers', async () => {
    const logger = new MemoryLogger();
    const creds = source(settingsFor(ec, fake.endpoint), logger);
    const first = await creds.get();
    enterRenewalWindow(first.expiration);
    fake.failNext(1, 503, 'ServiceUnavailableException', 'try again later');
    const requests = () => fake.accepted.length + fake.rejected.length;
    const sent = requests();
    assert.equal((await creds.get()).accessKeyId, first.accessKeyId);
    assert.equal(requests(), sent + 1);
    const warning = logger.lines.find((l) => l.level === 'warn')?.text ?? '';
    assert.match(warning, /renewing the credentials failed; the current ones are kept until they expire: .*HTTP 503 ServiceUnavailableException: try again later/u);
    for (const secret of [first.secretAccessKey, first.sessionToken]) assert.ok(!warning.includes(secret), 'a secret was logged');
    // Within the back-off the valid credentials are handed out without asking again.
    assert.equal((await creds.get()).accessKeyId, first.accessKeyId);
    assert.equal(requests(), sent + 1);
    clock.advance(RETRY_FIRST_MS);
    const renewed = await creds.get();
    assert.notEqual(renewed.accessKeyId, first.accessKeyId);
    assert.match(logger.lines.at(-1)?.text ?? '', /credentials renewed after 1 failed attempt/u);
  });

  it('fails once the credentials have expired and renewal still fails', async () => {
    const creds = source(settingsFor(rsa, fake.endpoint));
    const first = await creds.get();
    clock.ms = first.expiration.getTime() + 1000;
    fake.failNext(1, 503, 'ServiceUnavailableException', 'down');
    await assert.rejects(creds.get(), (err: unknown) => isStorageError(err, 'Unavailable') && /HTTP 503/u.test(err.message));
    assert.notEqual((await creds.get()).accessKeyId, first.accessKeyId);
  });

  it('reads rotated certificate and key files at the next renewal', async () => {
    const files = { certPath: join(rsa.dir, 'rotating.crt'), keyPath: join(rsa.dir, 'rotating.key') };
    await copyFile(rsa.certPath, files.certPath);
    await copyFile(rsa.keyPath, files.keyPath);
    const creds = source({ ...settingsFor(rsa, fake.endpoint), certificate: files.certPath, private_key: files.keyPath });
    const first = await creds.get();
    assert.equal(fake.accepted.at(-1)?.serial, decimalSerial(rsa.clientCert));
    await writeFile(files.certPath, ec.clientCert);
    await writeFile(files.keyPath, ec.clientKey);
    enterRenewalWindow(first.expiration);
    await creds.get();
    assert.equal(fake.accepted.at(-1)?.serial, decimalSerial(ec.clientCert));
    assert.equal(fake.accepted.at(-1)?.algorithm, 'AWS4-X509-ECDSA-SHA256');
  });

  it("reports a 403 with the service's reason and the fields to check", async () => {
    await assert.rejects(source(settingsFor(untrusted, fake.endpoint)).get(), (err: unknown) => {
      assert.ok(isStorageError(err, 'Unauthenticated'), String(err));
      assert.match(err.message, /refused CreateSession at http:\/\/127\.0\.0\.1:\d+ \(HTTP 403 AccessDeniedException: Untrusted Signing Certificate\)/u);
      assert.match(err.message, /rolesanywhere\.trust_anchor_arn holds the CA that issued rolesanywhere\.certificate/u);
      return true;
    });
    const otherRole = settingsFor(rsa, fake.endpoint, { role_arn: 'arn:aws:iam::123456789012:role/other' });
    await assert.rejects(source(otherRole).get(), /AccessDeniedException: role arn:aws:iam::123456789012:role\/other is not in profile/u);
    const otherProfile = settingsFor(rsa, fake.endpoint, { profile_arn: settingsFor(rsa, '').profile_arn.replace(/.{4}$/u, '0000') });
    await assert.rejects(source(otherProfile).get(), (err: unknown) => isStorageError(err, 'ConfigInvalid') && /HTTP 404 ResourceNotFoundException/u.test(err.message));
  });

  it('reports an unreachable endpoint as Unavailable, and bad settings before any request', async () => {
    const closed = await startFake([rsa]);
    await closed.close();
    await assert.rejects(source(settingsFor(rsa, closed.endpoint)).get(), (err: unknown) => isStorageError(err, 'Unavailable') && /is unreachable \(ECONNREFUSED\)/u.test(err.message));
    assert.throws(() => source(settingsFor(rsa, fake.endpoint, { private_key: ec.keyPath })), /rolesanywhere\.private_key does not match/u);
    assert.throws(() => source(settingsFor(rsa, fake.endpoint, { trust_anchor_arn: 'anchor' })), /rolesanywhere\.trust_anchor_arn: malformed ARN/u);
  });
});
