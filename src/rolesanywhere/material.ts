/**
 * The client certificate, its chain and its private key, loaded from what the
 * settings hold (PEM, base64 of PEM — what the seed's UI hands over — or a
 * file path), with the checks that turn Roles Anywhere's bare 403s into
 * messages naming the field: validity dates, key type, key/certificate match,
 * end-entity (not CA) certificate. Files are read on every load, so rotated
 * files are picked up at the next refresh without a restart.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { StorageError } from '../storage/errors.ts';
import { S3_PROVIDER } from '../storage/providers/s3/errors.ts';
import { isPathValue, type RolesAnywhereField, type RolesAnywhereSettings } from './settings.ts';

/** What CreateSession is signed with. */
export interface SigningMaterial {
  readonly certificate: X509Certificate;
  /** Intermediates sent in `X-Amz-X509-Chain` (at most 5). */
  readonly chain: readonly X509Certificate[];
  readonly privateKey: KeyObject;
}

/** How messages name a field (`rolesanywhere.private_key`, `STORAGE_ROLESANYWHERE_PRIVATE_KEY`). */
export type FieldName = (field: RolesAnywhereField) => string;

/** CreateSession accepts at most this many intermediates. */
export const MAX_CHAIN = 5;

function invalid(message: string): StorageError {
  return new StorageError('ConfigInvalid', message, { provider: S3_PROVIDER });
}

function decodeBase64Pem(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/=\s]+$/u.test(text)) return undefined;
  const decoded = Buffer.from(text.replace(/\s+/gu, ''), 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : undefined;
}

/** The PEM text of a field: inline, base64-wrapped, or read from the file it names. */
function pemText(value: string, field: RolesAnywhereField, name: FieldName, secret: boolean): string {
  const trimmed = value.trim();
  if (trimmed.includes('-----BEGIN')) return trimmed;
  const decoded = decodeBase64Pem(trimmed);
  if (decoded !== undefined) return decoded;
  if (/[\r\n]/u.test(trimmed)) throw invalid(`${name(field)}: expected PEM text, base64 of PEM, or a file path`);
  // A key pasted in some other encoding must not be echoed as if it were a path.
  const shown = secret && !isPathValue(trimmed) ? 'the file it names' : trimmed.slice(0, 300);
  const path = trimmed.startsWith('~/') ? `${homedir()}${trimmed.slice(1)}` : trimmed;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalid(`${name(field)}: cannot read ${shown} (${code}); expected PEM text, base64 of PEM, or a readable file`);
  }
  const pem = text.includes('-----BEGIN') ? text : decodeBase64Pem(text.trim());
  if (pem === undefined) throw invalid(`${name(field)}: ${shown} holds no PEM (no "-----BEGIN" line)`);
  return pem;
}

function parseCertificates(value: string, field: RolesAnywhereField, name: FieldName): X509Certificate[] {
  const blocks = pemText(value, field, name, false).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/gu) ?? [];
  if (blocks.length === 0) throw invalid(`${name(field)}: no certificate found (expected a "-----BEGIN CERTIFICATE-----" block)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw invalid(`${name(field)}: certificate ${i + 1} cannot be parsed (${(err as Error).message})`);
    }
  });
}

function parsePrivateKey(value: string, name: FieldName): KeyObject {
  const pem = pemText(value, 'private_key', name, true);
  // PKCS#8 and traditional (Proc-Type) encryption; OpenSSL's own error for these varies by version.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/u.test(pem)) {
    throw invalid(`${name('private_key')}: the key is encrypted; give an unencrypted key (PKCS#8, SEC1 or PKCS#1 PEM)`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    // Node's messages carry no key bytes, but a decoder's wording helps nobody here.
    throw invalid(`${name('private_key')}: not a PEM private key (expected PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY")`);
  }
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec') {
    throw invalid(`${name('private_key')}: wrong key type ${type ?? 'unknown'}: IAM Roles Anywhere signs with RSA or EC keys`);
  }
  return key;
}

function checkDates(cert: X509Certificate, what: string, now: number): void {
  if (now < cert.validFromDate.getTime()) throw invalid(`${what} is not valid yet: valid from ${cert.validFromDate.toISOString()} (serial ${serialOf(cert)})`);
  if (now > cert.validToDate.getTime()) throw invalid(`${what} expired on ${cert.validToDate.toISOString()} (serial ${serialOf(cert)}): issue a new one (stowage certs init)`);
}

/** The decimal serial Roles Anywhere uses in the credential scope. */
export function serialOf(cert: X509Certificate): string {
  return BigInt(`0x${cert.serialNumber}`).toString(10);
}

/**
 * Loads and checks the material of `s` as of `now` (ms). Throws `ConfigInvalid`
 * naming the field: unreadable, not PEM, expired or not yet valid, a CA
 * instead of the client certificate, a key of another type or another pair.
 */
export function loadSigningMaterial(s: RolesAnywhereSettings, now: number, name: FieldName): SigningMaterial {
  const [certificate, ...bundled] = parseCertificates(s.certificate, 'certificate', name);
  if (certificate === undefined) throw invalid(`${name('certificate')}: no certificate found`);
  const chain = [...bundled, ...(s.certificate_chain === undefined ? [] : parseCertificates(s.certificate_chain, 'certificate_chain', name))];
  const privateKey = parsePrivateKey(s.private_key, name);
  if (certificate.ca) {
    throw invalid(`${name('certificate')} is a CA certificate (${certificate.subject.replace(/\n/gu, ', ')}): give the client certificate it issued (client.crt of stowage certs init)`);
  }
  checkDates(certificate, name('certificate'), now);
  if (chain.length > MAX_CHAIN) throw invalid(`${name('certificate_chain')}: ${chain.length} intermediate certificates; IAM Roles Anywhere accepts at most ${MAX_CHAIN}`);
  for (const c of chain) checkDates(c, `${name('certificate_chain')}: ${c.subject.replace(/\n/gu, ', ')}`, now);
  let matches = false;
  try {
    matches = certificate.checkPrivateKey(privateKey);
  } catch {
    matches = false;
  }
  if (!matches) throw invalid(`${name('private_key')} does not match ${name('certificate')} (serial ${serialOf(certificate)}): give the key the certificate was issued for`);
  return { certificate, chain, privateKey };
}
