/**
 * Shared pieces of the Roles Anywhere tests: a clock the test moves, ARNs,
 * certificate bundles made by the same code as `stowage certs init`, and a
 * fake CreateSession endpoint trusting them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { createCertificates, writeCertificateFiles, type CertificateBundle, type KeyType } from '../../src/rolesanywhere/certs.ts';
import type { RolesAnywhereSettings } from '../../src/rolesanywhere/settings.ts';
import { loadX509 } from '../../src/rolesanywhere/x509-lib.ts';
import { startRolesAnywhereFake, type FakeProfile, type FakeRolesAnywhere, type IssuedKeys, type SessionInfo } from '../helpers/peers/rolesanywhere-fake.ts';

export const REGION = 'eu-central-1';
export const ACCOUNT = '123456789012';
export const TRUST_ANCHOR_ARN = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/8f916267-7377-4d5d-a6f6-0b03f3feed3c`;
export const PROFILE_ARN = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/9419ce03-14c5-41e5-b0bc-62e717c53092`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/stowage-storage`;

/** The vector of spec.md (read in place, never copied into the repo). */
export const VECTOR_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'rolesanywhere', 'vector');

/** A clock that moves only when the test says so. */
export class Clock {
  ms: number;
  constructor(start = Date.now()) {
    this.ms = start;
  }

  readonly now = (): number => this.ms;

  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A CA and client certificate on disk, with the PEM texts. */
export interface Bundle extends CertificateBundle {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
}

const made: string[] = [];

/** Makes a bundle as `stowage certs init` does, in a fresh folder (see {@link removeBundles}). */
export async function makeBundle(keyType: KeyType, options: { days?: number; now?: number } = {}): Promise<Bundle> {
  const dir = await mkdtemp(join(tmpdir(), `stowage-ra-${keyType}-`));
  made.push(dir);
  const bundle = await createCertificates({ cn: `stowage-${keyType}`, o: 'Stowage Tests', ou: 'CV', days: options.days ?? 30, keyType, now: options.now });
  await writeCertificateFiles(dir, bundle, false);
  return { ...bundle, dir, certPath: join(dir, 'client.crt'), keyPath: join(dir, 'client.key') };
}

/** Removes the folders of every bundle made so far. */
export async function removeBundles(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Settings pointing at `bundle`'s files and at `endpoint`. */
export function settingsFor(bundle: Bundle, endpoint: string, extra: Partial<RolesAnywhereSettings> = {}): RolesAnywhereSettings {
  return {
    certificate: bundle.certPath, private_key: bundle.keyPath, trust_anchor_arn: TRUST_ANCHOR_ARN, profile_arn: PROFILE_ARN, role_arn: ROLE_ARN, endpoint, ...extra,
  };
}

/** Random keys, for a fake that is not backed by radosgw. */
export function randomKeys(): IssuedKeys {
  return { accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('hex'), sessionToken: randomBytes(32).toString('base64') };
}

/** A fake trusting the CAs of `bundles`, with one profile holding ROLE_ARN. */
export function startFake(
  bundles: readonly CertificateBundle[],
  options: { now?: () => number; issue?: (info: SessionInfo) => IssuedKeys; profile?: Partial<FakeProfile> } = {},
): Promise<FakeRolesAnywhere> {
  return startRolesAnywhereFake({
    region: REGION,
    trustAnchors: [{ arn: TRUST_ANCHOR_ARN, certificates: bundles.map((b) => b.caCert) }],
    profiles: [{ arn: PROFILE_ARN, roleArns: [ROLE_ARN], ...options.profile }],
    issue: options.issue ?? randomKeys,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

/** A logger that keeps what it is given. */
export class MemoryLogger {
  readonly lines: Array<{ level: string; text: string }> = [];
  warn = (...content: unknown[]): void => {
    this.lines.push({ level: 'warn', text: content.map((c) => (typeof c === 'string' ? c : JSON.stringify(c))).join(' ') });
  };
  info = (...content: unknown[]): void => {
    this.lines.push({ level: 'info', text: content.map((c) => (typeof c === 'string' ? c : JSON.stringify(c))).join(' ') });
  };
}

/** A client certificate issued by an intermediate CA that `root` (an EC bundle) issued. */
export async function makeChain(root: Bundle, now = Date.now()): Promise<{ leafCert: string; leafKey: string; intermediateCert: string }> {
  const x509 = await loadX509();
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const subtle = webcrypto.subtle;
  const rootKey = await subtle.importKey('pkcs8', createPrivateKey(root.caKey).export({ type: 'pkcs8', format: 'der' }), alg, false, ['sign']);
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) };
  const flags = x509.KeyUsageFlags;
  const interKeys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const intermediate = await x509.X509CertificateGenerator.create({
    subject: 'CN=Stowage Tests Intermediate', issuer: new x509.X509Certificate(root.caCert).subject, publicKey: interKeys.publicKey, signingKey: rootKey,
    signingAlgorithm: alg, ...validity,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(flags.keyCertSign | flags.cRLSign, true)],
  });
  const leafKeys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    subject: 'CN=stowage-chained', issuer: intermediate.subject, publicKey: leafKeys.publicKey, signingKey: interKeys.privateKey, signingAlgorithm: alg, ...validity,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(flags.digitalSignature, true)],
  });
  const leafKey = x509.PemConverter.encode(await subtle.exportKey('pkcs8', leafKeys.privateKey), 'PRIVATE KEY');
  return { leafCert: leaf.toString('pem'), leafKey, intermediateCert: intermediate.toString('pem') };
}
