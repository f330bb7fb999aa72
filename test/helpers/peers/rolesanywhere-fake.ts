/**
 * A loopback stand-in for IAM Roles Anywhere's CreateSession that verifies
 * requests the way the service is documented to (spec.md §10): it reads the
 * Authorization header, rebuilds the canonical request from the raw query,
 * raw headers and raw body bytes (its own code, not the signer's), verifies
 * the signature with the certificate's public key, walks the chain to a
 * configured CA checking Roles Anywhere's certificate rules, and checks the
 * decimal serial, the scope and the clock skew. Accepted requests get the
 * credentials the test hands out (radosgw keys, so they sign real requests).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, verify, X509Certificate } from 'node:crypto';
import { loadX509 } from '../../../src/rolesanywhere/x509-lib.ts';

/** A profile: which roles it may hand out, and its session length. */
export interface FakeProfile {
  readonly arn: string;
  readonly roleArns: readonly string[];
  /** Cap of the session length; default 3600 (real profiles: 900-43200; shorter allowed here). */
  readonly durationSeconds?: number;
  readonly acceptRoleSessionName?: boolean;
}

/** What the test's `issue` callback learns about an accepted request. */
export interface SessionInfo {
  readonly roleArn: string;
  /** Decimal serial of the client certificate. */
  readonly serial: string;
  readonly algorithm: string;
  readonly durationSeconds: number;
}

/** Keys of one session. */
export interface IssuedKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Options of {@link startRolesAnywhereFake}. */
export interface FakeOptions {
  readonly region: string;
  readonly trustAnchors: ReadonlyArray<{ readonly arn: string; readonly certificates: readonly string[] }>;
  readonly profiles: readonly FakeProfile[];
  readonly issue: (info: SessionInfo) => IssuedKeys;
  /** Clock (ms) for skew, validity dates and expirations; default `Date.now`. */
  readonly now?: () => number;
  /** Allowed difference between X-Amz-Date and the clock; default 15 min (SigV4's usual). */
  readonly maxSkewMs?: number;
}

/** A running fake. */
export interface FakeRolesAnywhere {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Sessions handed out, in order. */
  readonly accepted: ReadonlyArray<SessionInfo & { accessKeyId: string; expiration: Date }>;
  /** Refused requests: status, error code and the fake's reason. */
  readonly rejected: ReadonlyArray<{ status: number; code: string; reason: string }>;
  /** Answers the next `count` requests with this error instead of verifying them. */
  failNext(count: number, status: number, code: string, message: string): void;
  close(): Promise<void>;
}

class Refusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const denied = (why: string) => new Refusal(403, 'AccessDeniedException', why);
const invalid = (why: string) => new Refusal(400, 'ValidationException', why);

const AUTH = /^(AWS4-X509-RSA-SHA256|AWS4-X509-ECDSA-SHA256) Credential=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]+)$/u;
const KEY_FOR = { 'AWS4-X509-RSA-SHA256': 'rsa', 'AWS4-X509-ECDSA-SHA256': 'ec' } as const;

/** Percent-encoding of RFC 3986, written independently of the signer under test. */
function rfc3986(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/u.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function canonicalQuery(raw: string): string {
  if (raw === '') return '';
  const pairs = raw.split('&').map((p) => {
    const [k = '', v = ''] = p.split('=').map((x) => rfc3986(decodeURIComponent(x.replace(/\+/gu, ' '))));
    return [k, v] as const;
  });
  pairs.sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Header values by lowercase name from the raw list: repeats joined with ",", spaces trimmed and collapsed. */
function rawHeaderMap(req: IncomingMessage): Map<string, string> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    map.set(name, [...(map.get(name) ?? []), (req.rawHeaders[i + 1] ?? '').trim().replace(/ +/gu, ' ')]);
  }
  return new Map([...map].map(([k, v]) => [k, v.join(',')]));
}

/** The X.509 version number from the DER (tbsCertificate's optional [0] version; absent means v1). */
export function x509Version(der: Buffer): number {
  const skipHeader = (at: number) => {
    const len = der[at + 1] ?? 0;
    return at + 2 + (len & 0x80 ? len & 0x7f : 0);
  };
  const tbs = skipHeader(0);
  const first = skipHeader(tbs);
  if (der[first] !== 0xa0) return 1;
  return (der[first + 4] ?? 0) + 1;
}

/** Roles Anywhere's certificate rules (trust model, "Signature validation"). */
async function checkRules(cert: X509Certificate, role: 'leaf' | 'ca', now: number): Promise<void> {
  const x509 = await loadX509();
  const parsed = new x509.X509Certificate(cert.raw);
  const who = `${role} ${cert.subject.replace(/\n/gu, ', ')}`;
  if (x509Version(cert.raw) !== 3) throw denied(`${who}: not X.509 v3`);
  const hash = (parsed.signatureAlgorithm as { hash?: { name?: string } }).hash?.name ?? '';
  if (!['SHA-256', 'SHA-384', 'SHA-512'].includes(hash)) throw denied(`${who}: signature hash ${hash || 'unknown'} is too weak`);
  if (now < cert.validFromDate.getTime() || now > cert.validToDate.getTime()) throw denied(`${who}: outside its validity period`);
  const basic = parsed.getExtension(x509.BasicConstraintsExtension);
  const usage = parsed.getExtension(x509.KeyUsagesExtension);
  if (role === 'ca') {
    if (basic?.ca !== true) throw denied(`${who}: basicConstraints CA:TRUE missing`);
    if (usage === null || (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) throw denied(`${who}: keyUsage keyCertSign missing`);
  } else {
    if (basic?.ca === true) throw denied(`${who}: an end-entity certificate must not be a CA`);
    if (usage === null || (usage.usages & x509.KeyUsageFlags.digitalSignature) === 0) throw denied(`${who}: keyUsage digitalSignature missing`);
  }
  if (cert.subject.trim() === '') throw denied(`${who}: empty subject`);
}

interface Parsed {
  readonly query: URLSearchParams;
  readonly body: Buffer;
  readonly json: Record<string, unknown>;
}

class FakeServer {
  readonly accepted: Array<SessionInfo & { accessKeyId: string; expiration: Date }> = [];
  readonly rejected: Array<{ status: number; code: string; reason: string }> = [];
  failures: Array<{ status: number; code: string; message: string }> = [];
  readonly #o: FakeOptions;
  readonly #now: () => number;

  constructor(options: FakeOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const injected = this.failures.shift();
    if (injected !== undefined) return this.#refuse(res, new Refusal(injected.status, injected.code, injected.message));
    try {
      const reply = await this.#createSession(req, body);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      this.#refuse(res, err);
    }
  }

  #refuse(res: ServerResponse, err: Refusal): void {
    this.rejected.push({ status: err.status, code: err.code, reason: err.message });
    res.writeHead(err.status, { 'content-type': 'application/json', 'x-amzn-errortype': `${err.code}:http://internal.amazon.com/coral/` });
    res.end(JSON.stringify({ message: err.message }));
  }

  async #createSession(req: IncomingMessage, body: Buffer): Promise<object> {
    const [path, rawQuery = ''] = (req.url ?? '').split('?') as [string, string?];
    if (req.method !== 'POST' || path !== '/sessions') throw new Refusal(404, 'UnknownOperationException', `${req.method ?? '?'} ${path}`);
    if (!/^application\/json\b/u.test(req.headers['content-type'] ?? '')) throw invalid('Content-Type must be application/json');
    let json: Record<string, unknown> = {};
    try {
      json = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    } catch {
      throw invalid('body is not JSON');
    }
    const parsed: Parsed = { query: new URLSearchParams(rawQuery), body, json };
    const { profile, roleArn, duration } = this.#checkParameters(parsed);
    const { leaf, chain, algorithm } = this.#checkSignature(req, rawQuery, body);
    await this.#checkTrust(leaf, chain, this.#param(parsed, 'trustAnchorArn') ?? '');
    if (json['roleSessionName'] !== undefined && profile.acceptRoleSessionName !== true) throw denied('Not authorized to set roleSessionName.');
    const info: SessionInfo = { roleArn, serial: BigInt(`0x${leaf.serialNumber}`).toString(10), algorithm, durationSeconds: duration };
    const keys = this.#o.issue(info);
    const expiration = new Date(this.#now() + duration * 1000);
    this.accepted.push({ ...info, accessKeyId: keys.accessKeyId, expiration });
    const credentials = { ...keys, expiration: expiration.toISOString().replace(/\.\d{3}Z$/u, 'Z') };
    const assumedRoleUser = { arn: `${roleArn}/${leaf.serialNumber}`, assumedRoleId: `AROA:${leaf.serialNumber}` };
    return { credentialSet: [{ assumedRoleUser, credentials, packedPolicySize: 0, roleArn, sourceIdentity: leaf.subject }], subjectArn: 'arn:aws:rolesanywhere:fake:subject' };
  }

  #param(p: Parsed, name: string): string | undefined {
    const fromBody = p.json[name];
    return p.query.get(name) ?? (typeof fromBody === 'string' ? fromBody : undefined);
  }

  #checkParameters(p: Parsed): { profile: FakeProfile; roleArn: string; duration: number } {
    const [profileArn, roleArn, anchorArn] = ['profileArn', 'roleArn', 'trustAnchorArn'].map((n) => this.#param(p, n));
    if (profileArn === undefined || roleArn === undefined || anchorArn === undefined) throw invalid('profileArn, roleArn and trustAnchorArn are required');
    const requested = p.json['durationSeconds'];
    if (requested !== undefined && (!Number.isInteger(requested) || (requested as number) < 900 || (requested as number) > 43_200)) {
      throw invalid('durationSeconds must be an integer from 900 to 43200');
    }
    const profile = this.#o.profiles.find((x) => x.arn === profileArn);
    if (profile === undefined || !this.#o.trustAnchors.some((a) => a.arn === anchorArn)) throw new Refusal(404, 'ResourceNotFoundException', 'profile or trust anchor not found');
    if (!profile.roleArns.includes(roleArn)) throw denied(`role ${roleArn} is not in profile ${profileArn}`);
    const cap = profile.durationSeconds ?? 3600;
    return { profile, roleArn, duration: requested === undefined ? cap : Math.min(cap, requested as number) };
  }

  #checkSignature(req: IncomingMessage, rawQuery: string, body: Buffer): { leaf: X509Certificate; chain: X509Certificate[]; algorithm: string } {
    const m = AUTH.exec(req.headers.authorization ?? '');
    if (m === null) throw denied('Authorization header is malformed');
    const [, algorithm = '', credential = '', signedHeaders = '', signature = ''] = m;
    const [serial, date, region, service, terminator, ...extra] = credential.split('/');
    const headers = rawHeaderMap(req);
    const amzDate = headers.get('x-amz-date') ?? '';
    if (service !== 'rolesanywhere' || terminator !== 'aws4_request' || extra.length > 0) throw denied(`credential scope ${credential} is malformed`);
    if (region !== this.#o.region) throw denied(`credential scope region ${region ?? ''} is not ${this.#o.region}`);
    if (!/^\d{8}T\d{6}Z$/u.test(amzDate) || date !== amzDate.slice(0, 8)) throw denied('credential scope date differs from X-Amz-Date');
    const sent = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/u, '$1-$2-$3T$4:$5:$6Z'));
    if (Math.abs(sent - this.#now()) > (this.#o.maxSkewMs ?? 15 * 60_000)) throw denied('Signature expired: X-Amz-Date is too far from the server time');
    const names = signedHeaders.split(';');
    const mustSign = ['host', 'x-amz-date', 'x-amz-x509', ...(headers.has('x-amz-x509-chain') ? ['x-amz-x509-chain'] : [])];
    const missing = mustSign.find((n) => !names.includes(n)) ?? names.find((n) => !headers.has(n));
    if (missing !== undefined) throw denied(`header ${missing} is not signed or not sent`);
    const leaf = new X509Certificate(Buffer.from(headers.get('x-amz-x509') ?? '', 'base64'));
    if (BigInt(`0x${leaf.serialNumber}`).toString(10) !== serial) throw denied(`credential serial ${serial ?? ''} is not the certificate's (decimal)`);
    if (leaf.publicKey.asymmetricKeyType !== KEY_FOR[algorithm as keyof typeof KEY_FOR]) throw denied(`${algorithm} does not fit a ${leaf.publicKey.asymmetricKeyType ?? '?'} key`);
    const canonical = ['POST', '/sessions', canonicalQuery(rawQuery), names.map((n) => `${n}:${headers.get(n) ?? ''}\n`).join(''), signedHeaders,
      createHash('sha256').update(body).digest('hex')].join('\n');
    const toSign = [algorithm, amzDate, `${date}/${region}/${service}/${terminator}`, createHash('sha256').update(canonical).digest('hex')].join('\n');
    if (!verify('sha256', Buffer.from(toSign), leaf.publicKey, Buffer.from(signature, 'hex'))) throw denied('Signature does not match');
    const chainHeader = headers.get('x-amz-x509-chain');
    const chain = chainHeader === undefined ? [] : chainHeader.split(',').map((c) => new X509Certificate(Buffer.from(c, 'base64')));
    if (chain.length > 5) throw invalid('at most 5 chain certificates');
    return { leaf, chain, algorithm };
  }

  async #checkTrust(leaf: X509Certificate, chain: readonly X509Certificate[], anchorArn: string): Promise<void> {
    const now = this.#now();
    await checkRules(leaf, 'leaf', now);
    const anchors = (this.#o.trustAnchors.find((a) => a.arn === anchorArn)?.certificates ?? []).map((pem) => new X509Certificate(pem));
    let current = leaf;
    for (let depth = 0; depth <= chain.length; depth++) {
      const issued = (c: X509Certificate) => current.checkIssued(c) && current.verify(c.publicKey);
      const anchor = anchors.find(issued);
      if (anchor !== undefined) return checkRules(anchor, 'ca', now);
      const next = chain.find(issued);
      if (next === undefined) break;
      await checkRules(next, 'ca', now);
      current = next;
    }
    throw denied('Untrusted Signing Certificate');
  }
}

/** Starts the fake on a free loopback port. */
export async function startRolesAnywhereFake(options: FakeOptions): Promise<FakeRolesAnywhere> {
  const state = new FakeServer(options);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('fake Roles Anywhere did not get a port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accepted: state.accepted,
    rejected: state.rejected,
    failNext(count, status, code, message) {
      for (let i = 0; i < count; i++) state.failures.push({ status, code, message });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
