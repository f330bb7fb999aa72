/**
 * A private CA and a client certificate that meet IAM Roles Anywhere's
 * requirements (trust model, "Signature validation"): X.509 v3, SHA-256
 * signatures, the CA with `CA:TRUE` and `keyCertSign`, the client with
 * `CA:FALSE` and `digitalSignature`. What the seed's genCACert.sh and
 * genCert.sh did with openssl, without openssl.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { access, chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadX509 } from './x509-lib.ts';

/** Key algorithms Roles Anywhere accepts that WebCrypto can make. */
export const KEY_TYPES = ['rsa', 'ec'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** What to put in the certificates. */
export interface CertificateRequest {
  /** Subject common name of the client certificate (the session's source identity); the CA gets `<cn> CA`. */
  readonly cn: string;
  readonly o: string;
  readonly ou: string;
  /** Validity in days, from now. */
  readonly days: number;
  /** Default `rsa` (2048-bit); `ec` is P-256. */
  readonly keyType?: KeyType | undefined;
  /** Clock (ms); default `Date.now`. */
  readonly now?: number | undefined;
}

/** PEM texts of the four files. */
export interface CertificateBundle {
  readonly caCert: string;
  readonly caKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** File names `stowage certs init` writes, and their modes (keys readable by the owner only). */
export const CERTIFICATE_FILES = [
  { name: 'ca.crt', part: 'caCert', mode: 0o644 },
  { name: 'ca.key', part: 'caKey', mode: 0o600 },
  { name: 'client.crt', part: 'clientCert', mode: 0o644 },
  { name: 'client.key', part: 'clientKey', mode: 0o600 },
] as const satisfies ReadonlyArray<{ name: string; part: keyof CertificateBundle; mode: number }>;

// Clocks differ: a certificate valid from "now" could be refused as not yet valid.
const BACKDATE_MS = 5 * 60_000;

const ALGORITHMS = {
  rsa: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  ec: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
} as const;

/** A positive, minimally encoded 128-bit serial (hex). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** Checks the request; returns the first problem, naming the option. */
export function certificateRequestProblem(r: CertificateRequest): string | undefined {
  for (const [option, value] of [['--cn', r.cn], ['--o', r.o], ['--ou', r.ou]] as const) {
    if (value.trim() === '' || value.length > 64) return `${option}: expected 1-64 characters`;
  }
  if (!Number.isInteger(r.days) || r.days < 1 || r.days > 36_500) return '--days: expected a whole number of days from 1 to 36500';
  if (r.keyType !== undefined && !KEY_TYPES.includes(r.keyType)) return `--key-type: expected one of ${KEY_TYPES.join(', ')}`;
  return undefined;
}

/** Makes the CA and the client certificate it issues. */
export async function createCertificates(r: CertificateRequest): Promise<CertificateBundle> {
  const problem = certificateRequestProblem(r);
  if (problem !== undefined) throw new Error(problem);
  const x509 = await loadX509();
  const alg = ALGORITHMS[r.keyType ?? 'rsa'];
  const subtle = webcrypto.subtle;
  const now = r.now ?? Date.now();
  const validity = { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + r.days * 86_400_000) };
  const name = (cn: string) => [{ O: [r.o] }, { OU: [r.ou] }, { CN: [cn] }];
  const flags = x509.KeyUsageFlags;
  const caKeys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(), name: name(`${r.cn} CA`), keys: caKeys, signingAlgorithm: alg, ...validity,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(flags.keyCertSign | flags.cRLSign | flags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const clientKeys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const client = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(), subject: name(r.cn), issuer: ca.subject, publicKey: clientKeys.publicKey, signingKey: caKeys.privateKey,
    signingAlgorithm: alg, ...validity,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(flags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(clientKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const pkcs8 = async (key: webcrypto.CryptoKey) => x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
  return { caCert: ca.toString('pem'), caKey: await pkcs8(caKeys.privateKey), clientCert: client.toString('pem'), clientKey: await pkcs8(clientKeys.privateKey) };
}

/** Names of the files that already exist in `dir`. */
export async function existingCertificateFiles(dir: string): Promise<string[]> {
  const exists = await Promise.all(CERTIFICATE_FILES.map((f) => access(join(dir, f.name)).then(() => true, () => false)));
  return CERTIFICATE_FILES.filter((_, i) => exists[i] === true).map((f) => f.name);
}

/**
 * Writes the bundle into `dir` (created if missing). Existing files are
 * replaced only with `force`; new files get their mode at creation (keys
 * 0600), so a key is never readable by others, even for a moment.
 */
export async function writeCertificateFiles(dir: string, bundle: CertificateBundle, force: boolean): Promise<void> {
  const existing = await existingCertificateFiles(dir);
  if (existing.length > 0 && !force) throw new Error(`${existing.join(', ')} already in ${dir}: not overwritten (use --force to replace them)`);
  await mkdir(dir, { recursive: true });
  for (const f of CERTIFICATE_FILES) {
    const path = join(dir, f.name);
    // Removing first (rather than truncating) never writes through a symbolic link and gives the file our mode.
    if (force) await rm(path, { force: true });
    await writeFile(path, bundle[f.part].endsWith('\n') ? bundle[f.part] : `${bundle[f.part]}\n`, { mode: f.mode, flag: 'wx' });
    await chmod(path, f.mode);
  }
}
