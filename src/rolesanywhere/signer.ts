/**
 * The request signature of IAM Roles Anywhere's CreateSession: SigV4's
 * canonical request and string to sign, but signed with the certificate's
 * private key (AWS4-X509-RSA-SHA256 or AWS4-X509-ECDSA-SHA256) instead of an
 * HMAC, and scoped by the certificate's decimal serial. Pure: the caller
 * gives the date, so a fixed vector reproduces byte for byte.
 */
import { createHash, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { serialOf } from './material.ts';

/** Signature algorithms, chosen by the private key's type. */
export const RSA_ALGORITHM = 'AWS4-X509-RSA-SHA256';
export const ECDSA_ALGORITHM = 'AWS4-X509-ECDSA-SHA256';

/** What to sign. */
export interface SessionRequest {
  /** `Host` exactly as sent, with `:port` when not the default. */
  readonly host: string;
  readonly region: string;
  /** `YYYYMMDDTHHMMSSZ` (see {@link amzDate}). */
  readonly amzDate: string;
  /** Query parameters; CreateSession's ARNs may go here or in the body. */
  readonly query?: Readonly<Record<string, string>> | undefined;
  readonly body: string | Uint8Array;
  /** Signed as `content-type` when set. */
  readonly contentType?: string | undefined;
  readonly certificate: X509Certificate;
  readonly chain?: readonly X509Certificate[] | undefined;
  readonly privateKey: KeyObject;
}

/** The signed headers and the intermediate values (for tests and diagnostics). */
export interface SignedSession {
  /** Every header to send, `authorization` included (lowercase names). */
  readonly headers: Record<string, string>;
  readonly authorization: string;
  readonly canonicalRequest: string;
  /** Lowercase hex SHA-256 of the canonical request. */
  readonly canonicalRequestHash: string;
  readonly stringToSign: string;
  /** The canonical query string (also what the URL must carry). */
  readonly canonicalQuery: string;
}

/** `X-Amz-Date` of a moment: UTC `YYYYMMDDTHHMMSSZ`. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/gu, '').replace(/\.\d{3}/u, '');
}

/** The algorithm name for a key; throws for keys Roles Anywhere does not accept. */
export function algorithmFor(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return RSA_ALGORITHM;
  if (key.asymmetricKeyType === 'ec') return ECDSA_ALGORITHM;
  throw new Error(`IAM Roles Anywhere signs with RSA or EC keys, not ${key.asymmetricKeyType ?? 'unknown'}`);
}

/** RFC 3986 encoding: everything but `A-Za-z0-9-_.~` as uppercase `%XX` (encodeURIComponent leaves `!'()*`). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/gu, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Parameters sorted by encoded name, then value, joined as SigV4 wants them. */
export function canonicalQueryString(query: Readonly<Record<string, string>>): string {
  return Object.entries(query)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** A header value as canonicalised: trimmed, runs of spaces collapsed. */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/ +/gu, ' ');
}

/** Lowercase hex SHA-256. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Builds the canonical request from the lowercase headers to sign. */
export function canonicalRequest(query: string, headers: Readonly<Record<string, string>>, body: string | Uint8Array): { text: string; signedHeaders: string } {
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${canonicalHeaderValue(headers[n] ?? '')}\n`).join('');
  const signedHeaders = names.join(';');
  return { text: ['POST', '/sessions', query, canonicalHeaders, signedHeaders, sha256Hex(body)].join('\n'), signedHeaders };
}

/** Signs a CreateSession request; the returned headers go on the request as they are. */
export function signSessionRequest(r: SessionRequest): SignedSession {
  const algorithm = algorithmFor(r.privateKey);
  const signed: Record<string, string> = {
    host: r.host,
    'x-amz-date': r.amzDate,
    'x-amz-x509': r.certificate.raw.toString('base64'),
  };
  if (r.contentType !== undefined) signed['content-type'] = r.contentType;
  if (r.chain !== undefined && r.chain.length > 0) signed['x-amz-x509-chain'] = r.chain.map((c) => c.raw.toString('base64')).join(',');
  const query = canonicalQueryString(r.query ?? {});
  const { text, signedHeaders } = canonicalRequest(query, signed, r.body);
  const scope = `${r.amzDate.slice(0, 8)}/${r.region}/rolesanywhere/aws4_request`;
  const canonicalRequestHash = sha256Hex(text);
  const stringToSign = [algorithm, r.amzDate, scope, canonicalRequestHash].join('\n');
  // The primitive hashes the string itself (SHA-256 once); EC signatures come out DER-encoded, as AWS wants.
  const signature = sign('sha256', Buffer.from(stringToSign, 'utf8'), r.privateKey).toString('hex');
  const authorization = `${algorithm} Credential=${serialOf(r.certificate)}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers: { ...signed, authorization }, authorization, canonicalRequest: text, canonicalRequestHash, stringToSign, canonicalQuery: query };
}
