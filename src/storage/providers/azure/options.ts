/**
 * Settings of the Azure Blob store and the secret-free description of them
 * used in messages and logs.
 */

/** Provider name of the Azure Blob store. */
export const AZURE_PROVIDER = 'azure';

/** Default time allowed to open a TCP connection to the endpoint. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default time a request may go without sending or receiving a byte. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Options of {@link createAzureStore}. */
export interface AzureStoreOptions {
  /**
   * Account URL: `https://<account>.blob.core.windows.net`, or any URL of an
   * emulator such as `http://127.0.0.1:10000/devstoreaccount1`. A query string
   * here is ignored; pass a SAS token as `secret`.
   */
  readonly endpoint: string;
  /** Storage account name (`STORAGE_ACCESS_KEY`). */
  readonly accountName: string;
  /**
   * Account key, or a SAS token (`?sv=…`, `sv=…`, or any query string with
   * `sv` and `sig`), as in `STORAGE_SECRET_KEY`. See {@link isSasToken}.
   */
  readonly secret: string;
  /** Time allowed to connect; default 10 s, so an unreachable endpoint fails fast. */
  readonly connectTimeoutMs?: number | undefined;
  /** A request that moves no byte for this long fails (`Unavailable`); default 60 s. */
  readonly requestTimeoutMs?: number | undefined;
  /** Block size of `put` for streams of unknown length; default 8 MiB. */
  readonly blockSizeBytes?: number | undefined;
  /** Blocks of one `put` uploaded at once; default 4. Memory per put ≈ (this + 1) × block size. */
  readonly uploadConcurrency?: number | undefined;
}

/**
 * True when `secret` is a SAS token rather than an account key: it starts with
 * `?sv=` or `sv=`, or it is a query string holding both `sv` and `sig` (tokens
 * copied from the Azure portal often start with `sp=`). An account key is
 * base64 and can contain neither `&` nor a `=` before its padding.
 */
export function isSasToken(secret: string): boolean {
  const text = secret.trim();
  if (text.startsWith('?sv=') || text.startsWith('sv=')) return true;
  if (!text.includes('&')) return false;
  const params = new URLSearchParams(text.startsWith('?') ? text.slice(1) : text);
  return params.has('sv') && params.has('sig');
}

/** The SAS token without its leading `?` and surrounding blanks. */
export function sasQuery(secret: string): string {
  const text = secret.trim();
  return text.startsWith('?') ? text.slice(1) : text;
}

/**
 * The endpoint without query string, fragment, credentials or trailing `/`:
 * safe to show. Unparsable input is cut at the first `?` or `#`.
 */
export function publicEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint.trim());
    url.search = '';
    url.hash = '';
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/+$/u, '');
  } catch {
    return endpoint.trim().split(/[?#]/u)[0]?.replace(/\/+$/u, '') ?? '';
  }
}

/**
 * One line saying which account and endpoint a store talks to and how it
 * authenticates, never with the key or the SAS signature.
 */
export function describeAzureEndpoint(options: Pick<AzureStoreOptions, 'endpoint' | 'accountName' | 'secret'>): string {
  const auth = isSasToken(options.secret) ? 'SAS token' : 'account key';
  return `Azure Blob account ${options.accountName} at ${publicEndpoint(options.endpoint)} (${auth})`;
}
