/**
 * Builds the SDK client of an Azure store from its options: shared-key or SAS
 * authentication, no SDK retries (a retry layer wraps every store), and our
 * own agent with connect and idle timeouts.
 */
import type http from 'node:http';
import { AnonymousCredential, BlobServiceClient, newPipeline, StorageSharedKeyCredential } from '@azure/storage-blob';
import { azureError, type ErrorScope } from './azure-errors.ts';
import { agentPolicy, createTimeoutAgent } from './http-agent.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  isSasToken,
  publicEndpoint,
  sasQuery,
  type AzureStoreOptions,
} from './options.ts';

/** A configured client with what error mapping needs, and its sockets. */
export interface AzureConnection {
  readonly service: BlobServiceClient;
  readonly scope: ErrorScope;
  /** Whether requests are authorised by a SAS token (appended to every URL). */
  readonly sas: boolean;
  /** Closes the pooled sockets; requests still running fail. */
  close(): void;
}

const BASE64_KEY = /^[A-Za-z0-9+/]+={0,2}$/u;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw azureError('ConfigInvalid', `${name} must be a positive number of milliseconds`, {});
  return value;
}

function parseEndpoint(endpoint: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(publicEndpoint(endpoint));
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    const shown = publicEndpoint(endpoint);
    throw azureError('ConfigInvalid', `STORAGE_ENDPOINT ${JSON.stringify(shown)} is not an http(s) URL; use https://<account>.blob.core.windows.net`, {});
  }
  return url;
}

function checkCredentials(options: AzureStoreOptions, sas: boolean): void {
  if (options.accountName.trim() === '') throw azureError('ConfigInvalid', 'STORAGE_ACCESS_KEY (the storage account name) is empty', {});
  if (options.secret.trim() === '') throw azureError('ConfigInvalid', 'STORAGE_SECRET_KEY (account key or SAS token) is empty', {});
  if (!sas && !BASE64_KEY.test(options.secret.trim())) {
    throw azureError('ConfigInvalid', 'STORAGE_SECRET_KEY is neither an account key (base64) nor a SAS token (sv=…&sig=…)', {});
  }
}

/** The token and its signature, raw and decoded: each must be scrubbed from messages. */
function sasSecrets(query: string): string[] {
  const raw = /(?:^|&)sig=([^&]*)/u.exec(query)?.[1] ?? '';
  return [query, raw, new URLSearchParams(query).get('sig') ?? ''].filter((s) => s !== '');
}

/** Validates `options` (`ConfigInvalid`, never echoing the secret) and creates the client. */
export function connectAzure(options: AzureStoreOptions): AzureConnection {
  const url = parseEndpoint(options.endpoint);
  const sas = isSasToken(options.secret);
  checkCredentials(options, sas);
  const timeouts = {
    connectTimeoutMs: positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
    requestTimeoutMs: positive(options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs'),
  };
  const agent: http.Agent = createTimeoutAgent(url.protocol, timeouts);
  const secret = options.secret.trim();
  const credential = sas ? new AnonymousCredential() : new StorageSharedKeyCredential(options.accountName.trim(), secret);
  const pipeline = newPipeline(credential, {
    retryOptions: { maxTries: 1 },
    userAgentOptions: { userAgentPrefix: 'stowage' },
  });
  pipeline.factories.push(agentPolicy(agent));
  const base = publicEndpoint(options.endpoint);
  const service = new BlobServiceClient(sas ? `${base}?${sasQuery(secret)}` : base, pipeline);
  const secrets = sas ? sasSecrets(sasQuery(secret)) : [secret];
  return {
    service,
    sas,
    scope: { endpoint: base, secrets },
    close: () => agent.destroy(),
  };
}
