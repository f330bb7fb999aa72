/**
 * `stowage certs init`: a CA and a client certificate meeting IAM Roles
 * Anywhere's rules, keys readable by the owner only, base64 of ca.crt on
 * stdout for the trust anchor, and no existing file replaced without --force.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadX509 } from '../../src/rolesanywhere/x509-lib.ts';
import { x509Version } from '../helpers/peers/rolesanywhere-fake.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'src', 'cli', 'main.ts');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8', cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SUBJECT = ['--cn', 'stowage-prod', '--o', 'Acme Vision', '--ou', 'Data'];

/** Checks the rules of Roles Anywhere's trust model on both certificates. */
async function checkCertificates(dir: string, keyType: 'rsa' | 'ec'): Promise<void> {
  const x509 = await loadX509();
  const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
  const client = new X509Certificate(await readFile(join(dir, 'client.crt')));
  assert.equal(ca.ca, true);
  assert.equal(client.ca, false);
  assert.ok(client.checkIssued(ca) && client.verify(ca.publicKey), 'client.crt is not issued by ca.crt');
  assert.ok(ca.verify(ca.publicKey), 'ca.crt is not self-signed');
  assert.match(client.subject, /CN=stowage-prod/u);
  assert.match(client.subject, /O=Acme Vision/u);
  assert.match(ca.subject, /CN=stowage-prod CA/u);
  assert.ok(client.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'client.key')))));
  assert.ok(ca.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'ca.key')))));
  assert.equal(client.publicKey.asymmetricKeyType, keyType);
  // --days from now, and backdated 5 minutes for clocks that lag.
  assert.equal(client.validToDate.getTime() - client.validFromDate.getTime(), 10 * 86_400_000 + 5 * 60_000);
  for (const [cert, usage, isCa] of [[ca, x509.KeyUsageFlags.keyCertSign, true], [client, x509.KeyUsageFlags.digitalSignature, false]] as const) {
    const parsed = new x509.X509Certificate(cert.raw);
    assert.equal((parsed.signatureAlgorithm as { hash?: { name?: string } }).hash?.name, 'SHA-256');
    const basic = parsed.getExtension(x509.BasicConstraintsExtension);
    assert.equal(basic?.ca, isCa);
    assert.equal(basic?.critical, true);
    assert.ok(((parsed.getExtension(x509.KeyUsagesExtension)?.usages ?? 0) & usage) !== 0, 'key usage missing');
    assert.equal(x509Version(cert.raw), 3);
  }
}

describe('stowage certs init', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-certs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const keyType of ['rsa', 'ec'] as const) {
    it(`writes a CA and a client certificate (${keyType}) meeting Roles Anywhere's rules, keys 0600`, async () => {
      const out = join(dir, keyType);
      const r = run(['certs', 'init', ...SUBJECT, '--days', '10', '--out', out, '--key-type', keyType], root);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out.trim(), (await readFile(join(out, 'ca.crt'))).toString('base64'));
      assert.match(r.err, /External certificate bundle/u);
      for (const [name, mode] of [['ca.key', 0o600], ['client.key', 0o600], ['ca.crt', 0o644], ['client.crt', 0o644]] as const) {
        assert.equal((await stat(join(out, name))).mode & 0o777, mode, name);
      }
      await checkCertificates(out, keyType);
    });
  }

  it('writes into the current folder by default and never overwrites without --force', async () => {
    const here = await mkdtemp(join(dir, 'cwd-'));
    await writeFile(join(here, 'client.key'), 'keep me');
    const refused = run(['certs', 'init', ...SUBJECT, '--days', '10'], here);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /client\.key already in .*: not overwritten \(use --force/u);
    assert.equal(await readFile(join(here, 'client.key'), 'utf8'), 'keep me');
    await assert.rejects(stat(join(here, 'ca.crt')), { code: 'ENOENT' });
    const forced = run(['certs', 'init', ...SUBJECT, '--days', '10', '--force'], here);
    assert.equal(forced.code, 0, forced.err);
    assert.match(await readFile(join(here, 'client.key'), 'utf8'), /BEGIN PRIVATE KEY/u);
    assert.equal((await stat(join(here, 'client.key'))).mode & 0o777, 0o600);
  });

  it('refuses bad options with exit 2, naming the option', () => {
    const days = run(['certs', 'init', ...SUBJECT, '--days', 'ten', '--out', join(dir, 'bad')], root);
    assert.equal(days.code, 2);
    assert.match(days.err, /--days: expected a whole number of days/u);
    const keyType = run(['certs', 'init', ...SUBJECT, '--days', '1', '--key-type', 'dsa', '--out', join(dir, 'bad')], root);
    assert.equal(keyType.code, 2);
    assert.match(keyType.err, /--key-type: expected one of rsa, ec/u);
    assert.notEqual(run(['certs', 'init', '--cn', 'x'], root).code, 0);
  });
});
