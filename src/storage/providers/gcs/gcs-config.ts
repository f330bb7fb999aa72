/**
 * Settings of the GCS store: the service-account file, the endpoint, and the
 * SDK client built from them. Nothing here ever puts the private key (or the
 * file's contents) into a message: a malformed file is reported by path and
 * field name only.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { StorageError } from '../../errors.ts';
import { GCS_PROVIDER } from './gcs-errors.ts';

/** The public GCS JSON API. */
export const DEFAULT_GCS_ENDPOINT = 'https://storage.googleapis.com';

/** Resumable-upload chunks must be multiples of this (GCS rule). */
export const GCS_CHUNK_QUANTUM = 256 * 1024;

/** Default of `simpleUploadMaxSize`: one request for most images, at most this held per upload. */
export const DEFAULT_SIMPLE_UPLOAD_MAX_SIZE = 8 * 1024 * 1024;

/** Upper bound of `simpleUploadMaxSize`: the body is held in memory (and the emulator caps requests at 130 MB). */
const MAX_SIMPLE_UPLOAD_SIZE = 64 * 1024 * 1024;

/** Options of {@link createGcsStore}. */
export interface GcsStoreOptions {
  /** Service-account JSON file (`STORAGE_CREDENTIALS_PATH`); omitted: application default credentials. */
  readonly credentialsPath?: string | undefined;
  /** The service-account JSON itself (a connection's `credentials_json`), instead of a file. */
  readonly credentialsJson?: string | undefined;
  /** `STORAGE_ENDPOINT`: a bare host (`storage.googleapis.com`, https) or a full URL; default the public API. */
  readonly endpoint?: string | undefined;
  /** Project for `ensureBucket`; default the service account's `project_id`. */
  readonly projectId?: string | undefined;
  /** Timeout of each JSON API request (not of a whole upload or download), in ms; default the SDK's 60 s. */
  readonly timeoutMs?: number | undefined;
  /**
   * Bytes per request of a chunked resumable upload (a multiple of 256 KiB), for
   * proxies that limit request sizes. Default: one streaming request per upload.
   * Memory held per upload is about one chunk.
   */
  readonly uploadChunkSize?: number | undefined;
  /**
   * Bodies up to this many bytes (declared, or of unknown size and found to be
   * no larger) are sent in one multipart request, held in memory; larger ones
   * through a resumable session. Default 8 MiB, at most 64 MiB; 0: always resumable.
   */
  readonly simpleUploadMaxSize?: number | undefined;
}

/** The fields of a service-account file the store uses. */
export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly projectId?: string | undefined;
}

function configError(message: string): StorageError {
  return new StorageError('ConfigInvalid', message, { provider: GCS_PROVIDER });
}

function field(json: Record<string, unknown>, name: string, source: string): string {
  const value = json[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw configError(`${source}: field "${name}" is missing or empty`);
  }
  return value;
}

/**
 * Reads and validates a service-account JSON file; see {@link parseServiceAccount}.
 * Errors name `STORAGE_CREDENTIALS_PATH` and the path.
 */
export function loadServiceAccount(path: string): ServiceAccount {
  const source = `STORAGE_CREDENTIALS_PATH ${path}`;
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw configError(`${source} cannot be read (${code})`);
  }
  return parseServiceAccount(content, source);
}

/**
 * Validates a service-account key: JSON, `type` `"service_account"`, a
 * `client_email` and a parseable PEM `private_key`. Anything else is
 * `ConfigInvalid` naming `source` (the setting) and the field, never a value.
 */
export function parseServiceAccount(content: string, source: string): ServiceAccount {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    // JSON.parse messages quote the input, which may be the private key: say nothing more.
    throw configError(`${source} is not valid JSON (expected a service-account key file)`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw configError(`${source}: expected a JSON object (a service-account key file)`);
  }
  const record = json as Record<string, unknown>;
  const type = field(record, 'type', source);
  if (type !== 'service_account') {
    const shown = /^[a-z_]{1,40}$/u.test(type) ? ` (it is "${type}")` : '';
    throw configError(`${source}: field "type" must be "service_account"${shown}`);
  }
  const clientEmail = field(record, 'client_email', source);
  const privateKey = field(record, 'private_key', source);
  try {
    createPrivateKey(privateKey);
  } catch {
    throw configError(`${source}: field "private_key" is not a valid PEM private key`);
  }
  const projectId = typeof record['project_id'] === 'string' && record['project_id'] !== '' ? record['project_id'] : undefined;
  return { clientEmail, privateKey, projectId };
}

/**
 * The API base URL for `STORAGE_ENDPOINT`: empty → the public API, a bare host
 * (optionally with a port) → `https://host`, a full http(s) URL kept as given
 * (without a trailing slash).
 */
export function resolveGcsEndpoint(endpoint: string | undefined): string {
  const raw = endpoint?.trim() ?? '';
  if (raw === '') return DEFAULT_GCS_ENDPOINT;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//iu.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw configError(`STORAGE_ENDPOINT ${JSON.stringify(raw)} is not a host name or URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(`STORAGE_ENDPOINT ${JSON.stringify(raw)} must use http or https`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw configError('STORAGE_ENDPOINT must not contain credentials, a query or a fragment');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/u, '')}`;
}

/** One line describing where and as whom the store connects; never a secret. */
export function describeGcsEndpoint(options: GcsStoreOptions): string {
  const endpoint = resolveGcsEndpoint(options.endpoint);
  let who: string;
  if (options.credentialsJson !== undefined && options.credentialsJson !== '') who = 'service-account key given inline';
  else if (options.credentialsPath !== undefined && options.credentialsPath !== '') who = `service account file ${options.credentialsPath}`;
  else if (endpoint !== DEFAULT_GCS_ENDPOINT) who = 'no credentials';
  else who = 'application default credentials';
  const project = options.projectId === undefined ? '' : `, project ${options.projectId}`;
  return `google storage at ${endpoint} (${who}${project})`;
}

/** `ConfigInvalid` unless the numeric options are sane. */
export function checkNumbers(options: GcsStoreOptions): void {
  const { timeoutMs, uploadChunkSize, simpleUploadMaxSize } = options;
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)) {
    throw configError(`timeoutMs must be a positive integer (got ${timeoutMs})`);
  }
  if (uploadChunkSize !== undefined && (!Number.isSafeInteger(uploadChunkSize) || uploadChunkSize <= 0 || uploadChunkSize % GCS_CHUNK_QUANTUM !== 0)) {
    throw configError(`uploadChunkSize must be a positive multiple of ${GCS_CHUNK_QUANTUM} bytes (got ${uploadChunkSize})`);
  }
  if (simpleUploadMaxSize !== undefined && (!Number.isSafeInteger(simpleUploadMaxSize) || simpleUploadMaxSize < 0 || simpleUploadMaxSize > MAX_SIMPLE_UPLOAD_SIZE)) {
    throw configError(`simpleUploadMaxSize must be an integer from 0 to ${MAX_SIMPLE_UPLOAD_SIZE} bytes (got ${simpleUploadMaxSize})`);
  }
}

/**
 * The SDK client. Its own retries are off (a retry layer wraps every store);
 * requests to a custom endpoint are authenticated when a service account is given
 * (the SDK skips auth for custom endpoints otherwise, which suits emulators).
 */
export function createStorageClient(endpoint: string, options: GcsStoreOptions, account: ServiceAccount | undefined): Storage {
  const projectId = options.projectId ?? account?.projectId;
  // Google's convention: with STORAGE_EMULATOR_HOST set, clients talk to an emulator
  // and do not authenticate (the file was still read and validated).
  const authenticate = account !== undefined && process.env['STORAGE_EMULATOR_HOST'] === undefined;
  const settings: StorageOptions = {
    apiEndpoint: endpoint,
    retryOptions: { autoRetry: false, maxRetries: 0 },
    ...(projectId === undefined ? {} : { projectId }),
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    ...(!authenticate ? {} : {
      credentials: { client_email: account.clientEmail, private_key: account.privateKey },
      useAuthWithCustomEndpoint: endpoint !== DEFAULT_GCS_ENDPOINT,
    }),
  };
  const storage = new Storage(settings);
  // The constructor treats `maxRetries: 0` as unset (default 3), and some calls
  // (compose, copy) pass maxRetries explicitly: pin it.
  storage.retryOptions.maxRetries = 0;
  storage.retryOptions.autoRetry = false;
  return storage;
}
