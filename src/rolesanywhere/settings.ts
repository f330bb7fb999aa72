/**
 * IAM Roles Anywhere settings as operators write them: the `rolesanywhere`
 * map of an S3 connection (remote_links.yml and the connections API) and the
 * `STORAGE_ROLESANYWHERE_*` variables of the primary storage. One set of
 * rules checks both, so the file, the API and `.env` refuse the same things
 * with the same messages; only the way a field is named differs.
 */
import { z } from 'zod';

/** Every field of the `rolesanywhere` map, in the order docs list them. */
export const ROLESANYWHERE_FIELDS = [
  'certificate', 'certificate_chain', 'private_key', 'trust_anchor_arn', 'profile_arn', 'role_arn', 'region', 'session_duration', 'endpoint',
] as const;
export type RolesAnywhereField = (typeof ROLESANYWHERE_FIELDS)[number];

/** Fields without which no session can be created. */
const REQUIRED: readonly RolesAnywhereField[] = ['certificate', 'private_key', 'trust_anchor_arn', 'profile_arn', 'role_arn'];

/** CreateSession's bounds of `durationSeconds`. */
export const MIN_SESSION_SECONDS = 900;
export const MAX_SESSION_SECONDS = 43_200;

/** IAM Roles Anywhere settings of one S3 store. */
export interface RolesAnywhereSettings {
  /** PEM of the end-entity certificate (intermediates may follow), base64 of that PEM, or a file path. */
  readonly certificate: string;
  /** PEM bundle of intermediate CAs (at most 5), base64 of it, or a file path. Default: none. */
  readonly certificate_chain?: string | undefined;
  /** PEM of the RSA or EC private key (PKCS#8, SEC1 or PKCS#1), base64 of it, or a file path. Secret. */
  readonly private_key: string;
  /** `arn:aws:rolesanywhere:<region>:<account>:trust-anchor/<id>`. */
  readonly trust_anchor_arn: string;
  /** `arn:aws:rolesanywhere:<region>:<account>:profile/<id>`. */
  readonly profile_arn: string;
  /** `arn:aws:iam::<account>:role/<name>`. */
  readonly role_arn: string;
  /** Roles Anywhere region. Default: the trust anchor ARN's. */
  readonly region?: string | undefined;
  /** Requested session length, 900–43200 s. Default: the profile's (3600 s unless changed). */
  readonly session_duration?: number | undefined;
  /** CreateSession endpoint (a URL or host). Default `https://rolesanywhere.<region>.amazonaws.com`. */
  readonly endpoint?: string | undefined;
}

/** The settings as read from a file, the API or `.env`, before they are checked: any field may be missing. */
export type RolesAnywhereInput = { readonly [K in keyof RolesAnywhereSettings]?: RolesAnywhereSettings[K] | undefined };

/** One problem: the field and what is wrong with it. */
export interface RolesAnywhereProblem {
  readonly field: RolesAnywhereField;
  readonly message: string;
}

/** How remote_links.yml and the API name a field: `rolesanywhere.private_key`. */
export function fileFieldName(field: RolesAnywhereField): string {
  return `rolesanywhere.${field}`;
}

/** How `.env` names a field: `STORAGE_ROLESANYWHERE_PRIVATE_KEY`. */
export function envFieldName(field: RolesAnywhereField): string {
  return `STORAGE_ROLESANYWHERE_${field.toUpperCase()}`;
}

const SESSION_RULE = `expected a whole number of seconds from ${MIN_SESSION_SECONDS} to ${MAX_SESSION_SECONDS}`;

/** `session_duration` from text (YAML, `.env`) or a JSON number; blank means unset. */
export const sessionDurationSchema = z.preprocess(
  (v) => (v === null || v === '' ? undefined : typeof v === 'string' && /^\s*\d+\s*$/u.test(v) ? Number(v) : v),
  z.number({ error: SESSION_RULE }).int(SESSION_RULE).min(MIN_SESSION_SECONDS, SESSION_RULE).max(MAX_SESSION_SECONDS, SESSION_RULE).optional(),
);

/** A parsed Roles Anywhere or IAM ARN. */
export interface ParsedArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d+';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ROLES_ANYWHERE_ARN = (kind: string) => new RegExp(`^arn:(${PARTITION}):rolesanywhere:(${REGION}):(\\d{12}):${kind}/${UUID}$`, 'iu');
const ARN_RULES = {
  trust_anchor_arn: { re: ROLES_ANYWHERE_ARN('trust-anchor'), example: 'arn:aws:rolesanywhere:<region>:<12-digit account>:trust-anchor/<uuid>' },
  profile_arn: { re: ROLES_ANYWHERE_ARN('profile'), example: 'arn:aws:rolesanywhere:<region>:<12-digit account>:profile/<uuid>' },
  // IAM is global: the empty group keeps the account at index 3, as in the other ARNs.
  role_arn: { re: new RegExp(`^arn:(${PARTITION}):iam::()(\\d{12}):role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`, 'u'), example: 'arn:aws:iam::<12-digit account>:role/<name>' },
} as const;

/** Parses one of the three ARNs; undefined when it is malformed. */
export function parseArn(field: keyof typeof ARN_RULES, value: string): ParsedArn | undefined {
  const m = ARN_RULES[field].re.exec(value.trim());
  if (m === null) return undefined;
  return { partition: m[1] ?? 'aws', region: m[2] ?? '', account: m[3] ?? '' };
}

function arnProblems(s: RolesAnywhereInput, out: RolesAnywhereProblem[]): Partial<Record<keyof typeof ARN_RULES, ParsedArn>> {
  const parsed: Partial<Record<keyof typeof ARN_RULES, ParsedArn>> = {};
  for (const field of ['trust_anchor_arn', 'profile_arn', 'role_arn'] as const) {
    const value = s[field];
    if (value === undefined) continue;
    const arn = parseArn(field, value);
    if (arn === undefined) out.push({ field, message: `malformed ARN ${JSON.stringify(value)}: expected ${ARN_RULES[field].example}` });
    else parsed[field] = arn;
  }
  return parsed;
}

function regionProblems(s: RolesAnywhereInput, arns: Partial<Record<keyof typeof ARN_RULES, ParsedArn>>, out: RolesAnywhereProblem[]): void {
  const anchor = arns.trust_anchor_arn;
  if (anchor === undefined) return;
  const profile = arns.profile_arn;
  if (profile !== undefined && profile.region !== anchor.region) {
    out.push({ field: 'profile_arn', message: `the profile is in region ${profile.region} but the trust anchor in ${anchor.region}: both must be in one region` });
  }
  if (s.region !== undefined && s.region !== anchor.region) {
    out.push({ field: 'region', message: `region ${s.region} differs from the trust anchor's region ${anchor.region}: Roles Anywhere only accepts the trust anchor in its own region` });
  }
}

function endpointProblem(endpoint: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//iu.test(endpoint) ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return 'expected a URL or host name such as https://rolesanywhere.eu-central-1.amazonaws.com';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http:// or https://';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  if (url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) return 'expected only a scheme, host and port (no path or query)';
  return undefined;
}

/**
 * Every problem of the settings taken together: missing fields, malformed
 * ARNs, a region that differs from the trust anchor's, a bad session length or
 * endpoint. Certificate and key contents are checked when they are loaded.
 */
export function rolesAnywhereProblems(s: RolesAnywhereInput): RolesAnywhereProblem[] {
  const out: RolesAnywhereProblem[] = [];
  for (const field of REQUIRED) {
    if (s[field] === undefined || s[field] === '') out.push({ field, message: `required for IAM Roles Anywhere (${requiredHint(field)})` });
  }
  regionProblems(s, arnProblems(s, out), out);
  if (s.region !== undefined && !new RegExp(`^${REGION}$`, 'u').test(s.region)) out.push({ field: 'region', message: `expected a region such as eu-central-1, got ${JSON.stringify(s.region)}` });
  const d = s.session_duration;
  if (d !== undefined && (!Number.isInteger(d) || d < MIN_SESSION_SECONDS || d > MAX_SESSION_SECONDS)) out.push({ field: 'session_duration', message: SESSION_RULE });
  const endpointIssue = s.endpoint === undefined ? undefined : endpointProblem(s.endpoint);
  if (endpointIssue !== undefined) out.push({ field: 'endpoint', message: endpointIssue });
  return out;
}

function requiredHint(field: RolesAnywhereField): string {
  if (field === 'certificate') return 'the client certificate: PEM, base64 of the PEM, or a file path';
  if (field === 'private_key') return "the client certificate's private key: PEM, base64 of the PEM, or a file path";
  return ARN_RULES[field as keyof typeof ARN_RULES]?.example ?? field;
}

/** Where CreateSession goes and for which region, after defaults. */
export interface RolesAnywhereTarget {
  /** Endpoint origin, e.g. `https://rolesanywhere.eu-central-1.amazonaws.com`. */
  readonly endpoint: string;
  readonly region: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly durationSeconds: number | undefined;
}

/** Settings with defaults applied; call only on settings {@link rolesAnywhereProblems} accepts. */
export function resolveTarget(s: RolesAnywhereSettings): RolesAnywhereTarget {
  const anchor = parseArn('trust_anchor_arn', s.trust_anchor_arn);
  const region = s.region ?? anchor?.region ?? '';
  const suffix = anchor?.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  const raw = s.endpoint ?? `https://rolesanywhere.${region}.${suffix}`;
  const endpoint = new URL(/^[a-z][a-z0-9+.-]*:\/\//iu.test(raw) ? raw : `https://${raw}`).origin;
  return {
    endpoint,
    region,
    trustAnchorArn: s.trust_anchor_arn.trim(),
    profileArn: s.profile_arn.trim(),
    roleArn: s.role_arn.trim(),
    durationSeconds: s.session_duration,
  };
}

/** True for a value that is a file path rather than PEM or base64 text. */
export function isPathValue(value: string): boolean {
  return !value.includes('-----BEGIN') && /^(?:\/|\.{1,2}\/|~\/)[^\n\r]{0,1023}$/u.test(value.trim());
}

/**
 * The settings as replies may show them: the ARNs, region, duration,
 * endpoint and the certificates (public); the private key only when it is a
 * file path, otherwise `"****"`.
 */
export function publicRolesAnywhere(s: RolesAnywhereInput): Record<string, unknown> {
  const key = s.private_key;
  return {
    certificate: s.certificate ?? null,
    certificate_chain: s.certificate_chain ?? null,
    private_key: key === undefined ? null : isPathValue(key) ? key.trim() : '****',
    trust_anchor_arn: s.trust_anchor_arn ?? null,
    profile_arn: s.profile_arn ?? null,
    role_arn: s.role_arn ?? null,
    region: s.region ?? null,
    session_duration: s.session_duration ?? null,
    endpoint: s.endpoint ?? null,
  };
}
