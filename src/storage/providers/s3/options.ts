/**
 * Settings of the S3 provider and the S3 client built from them: endpoint
 * resolution (`STORAGE_ENDPOINT` + `STORAGE_PORT`), credentials (static keys,
 * an EC2 IAM role or IAM Roles Anywhere), timeouts and upload tuning.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { fromInstanceMetadata } from '@aws-sdk/credential-providers';
import { RolesAnywhereCredentials, type RolesAnywhereOptions } from '../../../rolesanywhere/credentials.ts';
import type { RolesAnywhereInput } from '../../../rolesanywhere/settings.ts';
import { StorageError } from '../../errors.ts';
import { S3_PROVIDER } from './errors.ts';
import { DirectPut } from './direct-put.ts';

/** Minimal logger the SDK may warn through (pino and `console` fit). */
export interface S3StoreLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

/** Options of {@link createS3Store}. */
export interface S3StoreOptions {
  /**
   * `s3.amazonaws.com`-style bare host (https when `port` is 443 or unset, http
   * otherwise) or a full URL with scheme (`http://127.0.0.1:9000`). Unset means AWS.
   */
  readonly endpoint?: string | undefined;
  /** Port for a bare host, or for a URL that names none. */
  readonly port?: number | undefined;
  readonly accessKey?: string | undefined;
  readonly secretKey?: string | undefined;
  /** Signing region; default `us-east-1`. */
  readonly region?: string | undefined;
  /**
   * Use the credentials of this EC2 instance's IAM role (IMDSv2), refreshed
   * before they expire. Excludes `accessKey`/`secretKey`.
   */
  readonly iamRole?: string | undefined;
  /**
   * Temporary credentials from IAM Roles Anywhere (an X.509 certificate and
   * its key), renewed five minutes before they expire. Excludes the keys and `iamRole`.
   */
  readonly rolesAnywhere?: RolesAnywhereInput | undefined;
  /** How Roles Anywhere messages name fields, its clock and logger; default file names, `Date.now`, `logger`. */
  readonly rolesAnywhereOptions?: RolesAnywhereOptions | undefined;
  /** Path-style URLs (`host/bucket/key`); default true unless the endpoint is `*.amazonaws.com`. */
  readonly forcePathStyle?: boolean | undefined;
  /** Limit on establishing a connection; default 5 s, so an unreachable endpoint fails fast. */
  readonly connectTimeoutMs?: number | undefined;
  /** Limit on socket inactivity during a request or a download; default 120 s. */
  readonly requestTimeoutMs?: number | undefined;
  /** Part size of multipart uploads (>= 5 MiB); default 8 MiB. */
  readonly partSizeBytes?: number | undefined;
  /** Streams of declared size up to this go up in one PutObject, without buffering; default 64 MiB (max 5 GiB). */
  readonly singlePutMaxBytes?: number | undefined;
  /** Parts of one upload in flight at once (memory: about `queueSize × partSize`); default 4. */
  readonly uploadQueueSize?: number | undefined;
  /** Copies larger than this use multipart `UploadPartCopy`; default 5 GiB (the CopyObject limit). */
  readonly multipartCopyThresholdBytes?: number | undefined;
  /** Part size of multipart copies; default 512 MiB. */
  readonly copyPartSizeBytes?: number | undefined;
  /** Where SDK warnings and errors go; default: dropped. */
  readonly logger?: S3StoreLogger | undefined;
}

/** Default signing region. */
export const DEFAULT_REGION = 'us-east-1';

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part, and the CopyObject limit. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** S3's part count limit. */
export const MAX_PARTS = 10_000;

/** Upload and copy tuning after defaults. */
export interface S3Tuning {
  readonly partSize: number;
  readonly queueSize: number;
  readonly singlePutMax: number;
  readonly copyThreshold: number;
  readonly copyPartSize: number;
}

/** Where requests go, for the SDK and for messages. */
export interface ResolvedEndpoint {
  /** URL handed to the SDK; undefined lets it pick the AWS regional endpoint. */
  readonly url: string | undefined;
  /** The same for logs and messages (never with credentials). */
  readonly display: string;
  readonly aws: boolean;
}

function configError(message: string): StorageError {
  return new StorageError('ConfigInvalid', message, { provider: S3_PROVIDER });
}

function checkPort(port: number | undefined): void {
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
    throw configError(`STORAGE_PORT must be an integer from 1 to 65535, got ${port}`);
  }
}

function parseEndpoint(endpoint: string, port: number | undefined): URL {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//iu.test(endpoint);
  let url: URL;
  try {
    url = new URL(hasScheme ? endpoint : `http://${endpoint}`);
  } catch {
    throw configError('STORAGE_ENDPOINT is not a valid host name or URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError('STORAGE_ENDPOINT must use http:// or https://');
  // Never echo such a URL: it holds a password.
  if (url.username !== '' || url.password !== '') throw configError('STORAGE_ENDPOINT must not contain credentials');
  if (url.search !== '' || url.hash !== '') throw configError('STORAGE_ENDPOINT must not have a query or fragment');
  if (!hasScheme) {
    const effective = port ?? (url.port === '' ? undefined : Number(url.port));
    url.protocol = effective === undefined || effective === 443 ? 'https:' : 'http:';
    url.port = effective === undefined ? '' : String(effective);
  } else if (url.port === '' && port !== undefined) {
    url.port = String(port);
  }
  return url;
}

function isAwsHost(hostname: string): boolean {
  return /(^|\.)amazonaws\.com(\.cn)?$/iu.test(hostname);
}

/** Resolves the endpoint settings; `ConfigInvalid` when they make no URL. */
export function resolveEndpoint(options: S3StoreOptions): ResolvedEndpoint {
  checkPort(options.port);
  const endpoint = options.endpoint?.trim() ?? '';
  if (endpoint === '') {
    return { url: undefined, display: `https://s3.${options.region ?? DEFAULT_REGION}.amazonaws.com`, aws: true };
  }
  const url = parseEndpoint(endpoint, options.port);
  const display = url.href.replace(/\/+$/u, '');
  return { url: display, display, aws: isAwsHost(url.hostname) };
}

/** The endpoint URL requests go to, for logs (it never contains credentials). */
export function describeS3Endpoint(options: S3StoreOptions): string {
  return resolveEndpoint(options).display;
}

type Credentials = NonNullable<S3ClientConfig['credentials']>;
type Identity = Exclude<Credentials, (...args: never[]) => unknown>;

/** Credentials of the client, the hint for error messages, and the values messages must hide. */
interface CredentialSetup {
  credentials: Credentials;
  hint: string;
  secrets: string[];
}

/** Wraps a provider so the latest values it returned can be redacted from error messages. */
function remembering(provider: () => Promise<Identity>, secrets: string[]): () => Promise<Identity> {
  return async () => {
    const c = await provider();
    secrets.unshift(c.accessKeyId, c.secretAccessKey, ...(c.sessionToken === undefined ? [] : [c.sessionToken]));
    secrets.length = Math.min(secrets.length, 9);
    return c;
  };
}

function imdsCredentials(iamRole: string, options: S3StoreOptions): CredentialSetup {
  const secrets: string[] = [];
  // A provider function (not static keys) lets the SDK refresh before expiry.
  const credentials = remembering(fromInstanceMetadata({ timeout: 1000, maxRetries: 1, logger: sdkLogger(options.logger) }), secrets);
  return { credentials, hint: `the IAM role ${iamRole} and the EC2 instance metadata service`, secrets };
}

function rolesAnywhereCredentials(settings: RolesAnywhereInput, options: S3StoreOptions): CredentialSetup {
  const secrets: string[] = [];
  const logger = options.rolesAnywhereOptions?.logger ?? options.logger;
  const source = new RolesAnywhereCredentials(settings, { ...options.rolesAnywhereOptions, ...(logger === undefined ? {} : { logger }) });
  // `memoized` keeps the SDK from caching by its own clock: the source decides when to renew.
  const credentials = Object.assign(remembering(source.provider, secrets), { memoized: true });
  return { credentials, hint: source.describe(), secrets };
}

/** Static keys, the IAM role provider or IAM Roles Anywhere, plus the hint for error messages. */
function credentialsOf(options: S3StoreOptions): CredentialSetup {
  const { accessKey, secretKey, iamRole, rolesAnywhere } = options;
  const hasKeys = (accessKey ?? '') !== '' || (secretKey ?? '') !== '';
  const hasRole = iamRole !== undefined && iamRole !== '';
  if (rolesAnywhere !== undefined) {
    if (hasKeys || hasRole) throw configError('set either STORAGE_ROLESANYWHERE_* or STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY or STORAGE_IAM_ROLE, not several');
    return rolesAnywhereCredentials(rolesAnywhere, options);
  }
  if (hasRole) {
    if (hasKeys) throw configError('set either STORAGE_IAM_ROLE or STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY, not both');
    return imdsCredentials(iamRole, options);
  }
  if (accessKey === undefined || accessKey === '' || secretKey === undefined || secretKey === '') {
    throw configError('STORAGE_ACCESS_KEY and STORAGE_SECRET_KEY (or STORAGE_IAM_ROLE, or STORAGE_ROLESANYWHERE_*) are required for an S3 store');
  }
  const credentials = { accessKeyId: accessKey, secretAccessKey: secretKey };
  return { credentials, hint: 'STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY', secrets: [accessKey, secretKey] };
}

/** Forwards the SDK's warnings and errors; its per-request info and debug lines are dropped. */
function sdkLogger(logger: S3StoreLogger | undefined): S3StoreLogger {
  if (logger === undefined) return SILENT;
  return { debug() {}, info() {}, warn: (...c) => logger.warn(...c), error: (...c) => logger.error(...c) };
}

const SILENT: S3StoreLogger = { debug() {}, info() {}, warn() {}, error() {} };

function positive(value: number | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw configError(`${name} must be an integer >= ${min}`);
  return value;
}

/** Tuning with defaults applied and S3's limits checked. */
export function tuningOf(options: S3StoreOptions): S3Tuning {
  return {
    partSize: Math.min(positive(options.partSizeBytes, 8 * MiB, 'partSizeBytes', MIN_PART_SIZE), MAX_PART_SIZE),
    queueSize: positive(options.uploadQueueSize, 4, 'uploadQueueSize'),
    singlePutMax: Math.min(positive(options.singlePutMaxBytes, 64 * MiB, 'singlePutMaxBytes', 0), MAX_PART_SIZE),
    copyThreshold: Math.min(positive(options.multipartCopyThresholdBytes, MAX_PART_SIZE, 'multipartCopyThresholdBytes'), MAX_PART_SIZE),
    copyPartSize: Math.min(positive(options.copyPartSizeBytes, 512 * MiB, 'copyPartSizeBytes', MIN_PART_SIZE), MAX_PART_SIZE),
  };
}

/** The client and what error messages need to know about it. */
export interface S3Setup {
  readonly client: S3Client;
  readonly endpoint: ResolvedEndpoint;
  readonly credentialsHint: string;
  readonly secrets: readonly string[];
  readonly region: string;
  /** Direct PutObject of small bodies (see direct-put.ts); path-style endpoints other than AWS only. */
  readonly directPut: DirectPut | undefined;
}

/** Builds the S3 client; `ConfigInvalid` for unusable settings. */
export function createS3Client(options: S3StoreOptions): S3Setup {
  const endpoint = resolveEndpoint(options);
  const region = options.region?.trim() || DEFAULT_REGION;
  const { credentials, hint, secrets } = credentialsOf(options);
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  const forcePathStyle = options.forcePathStyle ?? !endpoint.aws;
  const requestTimeoutMs = positive(options.requestTimeoutMs, 120_000, 'requestTimeoutMs');
  const client = new S3Client({
    region,
    ...(endpoint.url === undefined ? {} : { endpoint: endpoint.url }),
    forcePathStyle,
    followRegionRedirects: endpoint.aws,
    credentials,
    // Retries belong to the retry layer that wraps every store (withRetries).
    maxAttempts: 1,
    // S3-compatible stores (radosgw, older MinIO) refuse the SDK's default
    // streaming checksums (aws-chunked trailers) with 411; TLS and SigV4 still protect the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: positive(options.connectTimeoutMs, 5000, 'connectTimeoutMs'),
      socketTimeout: requestTimeoutMs,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    },
    logger: sdkLogger(options.logger),
  });
  const directPut = endpoint.url === undefined || endpoint.aws || !forcePathStyle
    ? undefined
    : new DirectPut({ endpoint: new URL(endpoint.url), region, credentials: client.config.credentials, agents, requestTimeoutMs });
  return { client, endpoint, credentialsHint: hint, secrets, region, directPut };
}
