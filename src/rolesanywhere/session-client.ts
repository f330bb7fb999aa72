/**
 * One CreateSession call (`POST /sessions` of IAM Roles Anywhere): the ARNs
 * in a JSON body, signed with the certificate's key, answered (201) with
 * temporary credentials. Failures become `StorageError`s whose message says
 * what Roles Anywhere said (`X-Amzn-ErrorType` and the body's message) and
 * which settings to check; credentials never appear in them.
 */
import { z } from 'zod';
import { StorageError, type StorageErrorKind } from '../storage/errors.ts';
import { S3_PROVIDER } from '../storage/providers/s3/errors.ts';
import type { FieldName, SigningMaterial } from './material.ts';
import type { RolesAnywhereTarget } from './settings.ts';
import { amzDate, signSessionRequest } from './signer.ts';

/** Temporary credentials of one session. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** How CreateSession is sent. */
export interface SessionClientOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch | undefined;
  /** Limit on the whole call; default 10 s. */
  readonly timeoutMs?: number | undefined;
}

const replySchema = z.object({
  credentialSet: z.array(z.object({
    credentials: z.object({
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      sessionToken: z.string().min(1),
      expiration: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an RFC 3339 date'),
    }),
  })),
});

function failure(kind: StorageErrorKind, message: string, cause?: unknown): StorageError {
  return new StorageError(kind, message, { provider: S3_PROVIDER, cause });
}

/** Requests a session as of `now` (ms) and returns its credentials. */
export async function createSession(
  target: RolesAnywhereTarget,
  material: SigningMaterial,
  now: number,
  name: FieldName,
  options: SessionClientOptions = {},
): Promise<SessionCredentials> {
  const body = JSON.stringify({
    profileArn: target.profileArn,
    roleArn: target.roleArn,
    trustAnchorArn: target.trustAnchorArn,
    ...(target.durationSeconds === undefined ? {} : { durationSeconds: target.durationSeconds }),
  });
  const url = new URL('/sessions', target.endpoint);
  const signed = signSessionRequest({
    host: url.host, region: target.region, amzDate: amzDate(now), body, contentType: 'application/json', ...material,
  });
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000), redirect: 'error',
    });
  } catch (err) {
    throw failure('Unavailable', `IAM Roles Anywhere endpoint ${target.endpoint} is unreachable (${networkCode(err)})`, err);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) throw sessionError(response.status, response.headers, text, target, name);
  return parseReply(text, target);
}

function networkCode(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  return cause?.code ?? (err instanceof Error ? err.message : String(err));
}

function parseReply(text: string, target: RolesAnywhereTarget): SessionCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = replySchema.safeParse(json);
  const first = parsed.success ? parsed.data.credentialSet[0]?.credentials : undefined;
  if (first === undefined) {
    throw failure('Unavailable', `IAM Roles Anywhere at ${target.endpoint} answered CreateSession without credentials (${parsed.success ? 'empty credentialSet' : 'not the expected JSON'})`);
  }
  return { ...first, expiration: new Date(first.expiration) };
}

/** Error code and message of a rest-json error reply. */
export function errorDetails(headers: Headers, text: string): { code: string | undefined; message: string | undefined } {
  let body: Record<string, unknown> = {};
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null) body = json as Record<string, unknown>;
  } catch {
    // Not JSON: a proxy's page, say; the status still tells what happened.
  }
  const pick = (...values: unknown[]) => values.find((v): v is string => typeof v === 'string' && v !== '');
  // The header may carry a URI after ':'; a body type may carry a namespace before '#'.
  const code = pick(headers.get('x-amzn-errortype')?.split(':')[0], body['code'], body['__type'])?.replace(/^.*#/u, '');
  const message = pick(body['message'], body['Message'])?.replace(/[\u0000-\u001f]+/gu, ' ').slice(0, 300);
  return { code, message };
}

function sessionError(status: number, headers: Headers, text: string, target: RolesAnywhereTarget, name: FieldName): StorageError {
  const { code, message } = errorDetails(headers, text);
  const said = `HTTP ${status}${code === undefined ? '' : ` ${code}`}${message === undefined ? '' : `: ${message}`}`;
  const head = `IAM Roles Anywhere refused CreateSession at ${target.endpoint} (${said})`;
  if (status === 401 || status === 403) {
    const fix = `check that the trust anchor ${name('trust_anchor_arn')} holds the CA that issued ${name('certificate')}, ` +
      `that ${name('profile_arn')} lists ${name('role_arn')}, and that the role trusts rolesanywhere.amazonaws.com`;
    return failure('Unauthenticated', `${head}: ${fix}`);
  }
  if (status === 404) return failure('ConfigInvalid', `${head}: check ${name('trust_anchor_arn')} and ${name('profile_arn')} (and ${name('region')})`);
  if (status === 400) return failure('ConfigInvalid', `${head}: check ${name('profile_arn')}, ${name('role_arn')} and ${name('session_duration')}`);
  if (status === 429) return failure('RateLimited', head);
  return failure(status >= 500 ? 'Unavailable' : 'Internal', head);
}
