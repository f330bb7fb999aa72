// @ts-check
/**
 * The page's only way to the server: Stowage's public API methods
 * (`/public/api/v3/<method>`) with the operator's key in `x-api-key`.
 * The key lives in sessionStorage (gone when the tab closes), never in a URL.
 */

const KEY_SLOT = 'stowage.apiKey';

/** An API error in plain words, with the field the server named (if any). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string | undefined} field
   * @param {Record<string, unknown>} details
   */
  constructor(status, message, field, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
    this.details = details;
  }
}

/** The key of this tab's session, or null. */
export function currentKey() {
  return sessionStorage.getItem(KEY_SLOT);
}

/** @param {string | null} key */
export function setKey(key) {
  if (key === null) sessionStorage.removeItem(KEY_SLOT);
  else sessionStorage.setItem(KEY_SLOT, key);
}

/** @type {Record<number, string>} */
const STATUS_WORDS = {
  401: 'The API key was not accepted (wrong, revoked or expired). Sign in again.',
  403: 'This API key is not allowed to do that (an admin key is needed).',
  413: 'That is too large for the server.',
  502: 'The storage provider refused or failed the request.',
  503: 'The server or the storage provider is unavailable right now; try again in a moment.',
};

/**
 * Turns a non-2xx reply into an {@link ApiError} whose message a person can read.
 * @param {Response} res
 */
async function errorOf(res) {
  let body = /** @type {any} */ (null);
  try { body = await res.json(); } catch { /* not JSON: fall back to the status */ }
  const details = body && typeof body.details === 'object' && body.details !== null ? body.details : {};
  const text = body && typeof body.error === 'string' ? body.error : (STATUS_WORDS[res.status] ?? `The server answered ${res.status} ${res.statusText}.`);
  const field = typeof details.field === 'string' && details.field !== '' ? details.field : undefined;
  const prefix = res.status === 401 || res.status === 403 ? `${STATUS_WORDS[res.status]} ` : '';
  return new ApiError(res.status, prefix + text, field, details);
}

/**
 * Calls a method with a JSON body (POST) and returns the parsed reply.
 * @param {string} method
 * @param {unknown} [body]
 * @param {{ key?: string, signal?: AbortSignal }} [opts]
 * @returns {Promise<any>}
 */
export async function call(method, body = {}, opts = {}) {
  const key = opts.key ?? currentKey() ?? '';
  let res;
  try {
    res = await fetch(`/public/api/v3/${encodeURIComponent(method)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(body),
      signal: opts.signal ?? null,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'The server cannot be reached. Check that Stowage is running and the network is up.', undefined, {});
  }
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

/**
 * A GET method with a query string (the wire's `remote-storage.list`).
 * @param {string} method
 * @param {Record<string, string>} query
 * @returns {Promise<any>}
 */
export async function get(method, query) {
  let res;
  try {
    res = await fetch(`/public/api/v3/${encodeURIComponent(method)}?${new URLSearchParams(query)}`, {
      headers: { 'x-api-key': currentKey() ?? '' },
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check that Stowage is running and the network is up.', undefined, {});
  }
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

/**
 * Calls a method and returns the raw response (downloads).
 * @param {string} method
 * @param {unknown} body
 */
export async function download(method, body) {
  const res = await fetch(`/public/api/v3/${encodeURIComponent(method)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': currentKey() ?? '' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await errorOf(res);
  return res.blob();
}

/**
 * A signed URL of a storage, preview or converter path, for `<img src>`
 * (browsers cannot send the key header). Cached per path until near expiry.
 * @param {string} path
 */
export async function signed(path) {
  const hit = signedCache.get(path);
  if (hit !== undefined && hit.until > Date.now()) return hit.url;
  const reply = await call('storage.sign', { path });
  // Same origin as the page, whatever PUBLIC_URL says (the page's CSP allows only 'self').
  const parsed = new URL(reply.url, location.origin);
  const url = `${parsed.pathname}${parsed.search}`;
  signedCache.set(path, { url, until: Date.parse(reply.expiresAt) - 60_000 });
  return url;
}
/** @type {Map<string, {url: string, until: number}>} */
const signedCache = new Map();
