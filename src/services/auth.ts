import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { ApiKey, ApiKeyRole, Catalog } from '../catalog/types.ts';
import type { ChangeFeed } from '../catalog/change-feed.ts';

/** Who made a request. */
export interface Principal {
  /** Key id, or 0 for the configured admin key (`STOWAGE_ADMIN_TOKEN`). */
  keyId: number;
  name: string;
  role: ApiKeyRole;
}

/** A freshly created key: the only time its secret is visible. */
export interface CreatedKey {
  key: string;
  info: ApiKey;
}

const KEY_PREFIX = 'stw_';
// Lookups are cached briefly so storage GETs do not hit the catalog each time.
// A revocation announced on the change feed (PostgreSQL) clears the cache at
// once on every instance; otherwise a revoked key stops working within this.
const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;
/**
 * Keys whose hash is remembered for the synchronous check of the fast paths
 * (hashing costs as much as the rest of a warm answer). Only a key's hash
 * says whether it is valid; this map only spares hashing it again.
 */
const HASHES_MAX = 1_000;

/** SHA-256 hex of a key: what the catalog stores instead of the key. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random API key (`stw_` + 43 base64url chars, 256 bits). */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

const ADMIN: Principal = Object.freeze({ keyId: 0, name: 'admin (STOWAGE_ADMIN_TOKEN)', role: 'admin' });

/** Checks API keys against the catalog (and the configured admin key). */
export class AuthService {
  readonly #catalog: Catalog;
  readonly #adminHash: string | undefined;
  readonly #cache = new Map<string, { principal: Principal | undefined; until: number }>();
  /** Keys seen by `knownPrincipal`: their hash, and whether they are the admin token (both fixed for a key). */
  readonly #hashes = new Map<string, { hash: string; admin: boolean }>();

  /**
   * @param adminToken `STOWAGE_ADMIN_TOKEN`, when set.
   * @param changes where revocations by other processes are announced (PostgreSQL: at once, everywhere).
   */
  constructor(catalog: Catalog, adminToken: string | undefined, changes?: ChangeFeed) {
    this.#catalog = catalog;
    this.#adminHash = adminToken === undefined ? undefined : hashKey(adminToken);
    changes?.subscribe('api-keys', () => this.clearCache());
  }

  /** The principal for a key; throws `Unauthenticated` when missing or unknown. */
  async authenticate(key: string | undefined): Promise<Principal> {
    if (key === undefined || key === '') {
      throw new AppError('Unauthenticated', 'missing API key: send it in the x-api-key header');
    }
    const hash = hashKey(key);
    const known = this.#known(hash);
    const principal = known === undefined ? await this.#lookup(hash) : known.principal;
    if (principal === undefined) throw new AppError('Unauthenticated', 'invalid or revoked API key');
    return principal;
  }

  /**
   * The principal of a key known to be valid without asking the catalog (the
   * admin token, or a recent lookup still cached); undefined when it would
   * take a lookup, or the key is invalid. For request paths that must not wait.
   */
  knownPrincipal(key: string): Principal | undefined {
    let seen = this.#hashes.get(key);
    if (seen === undefined) {
      if (this.#hashes.size >= HASHES_MAX) this.#hashes.clear();
      const hash = hashKey(key);
      seen = { hash, admin: this.#isAdmin(hash) };
      this.#hashes.set(key, seen);
    }
    if (seen.admin) return ADMIN;
    return this.#cached(seen.hash)?.principal;
  }

  #isAdmin(hash: string): boolean {
    return this.#adminHash !== undefined && safeEqual(hash, this.#adminHash);
  }

  /** A lookup still cached (a known-bad key too: `principal` undefined). */
  #cached(hash: string): { principal: Principal | undefined } | undefined {
    const hit = this.#cache.get(hash);
    return hit !== undefined && hit.until > Date.now() ? hit : undefined;
  }

  /** The admin key, or a lookup still cached (a known-bad key too: `principal` undefined); undefined when the catalog must be asked. */
  #known(hash: string): { principal: Principal | undefined } | undefined {
    return this.#isAdmin(hash) ? { principal: ADMIN } : this.#cached(hash);
  }

  /** Asks the catalog, and remembers the answer for a while. */
  async #lookup(hash: string): Promise<Principal | undefined> {
    const now = Date.now();
    const rec = await this.#catalog.apiKeys.findActiveByHash(hash);
    const principal = rec === undefined ? undefined : { keyId: rec.id, name: rec.name, role: rec.role };
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
    this.#cache.set(hash, { principal, until: now + CACHE_TTL_MS });
    if (rec !== undefined) void this.#catalog.apiKeys.touch(rec.id).catch(() => undefined);
    return principal;
  }

  /** Creates a key; the returned secret is shown once and never stored. */
  async createKey(name: string, role: ApiKeyRole): Promise<CreatedKey> {
    const key = generateKey();
    const info = await this.#catalog.apiKeys.create({ name, role, prefix: key.slice(0, 10), keyHash: hashKey(key) });
    return { key, info };
  }

  /** Forgets cached lookups (after a revoke in this process). */
  clearCache(): void {
    this.#cache.clear();
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Signs storage and preview paths for browsers, which cannot send headers:
 * `?expires=<unix seconds>&signature=<hex HMAC-SHA256 of "<path>\n<expires>">`.
 */
export class UrlSigner {
  readonly #secret: Buffer;

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  /** Query string (without `?`) that authorises GETs of `path` until `expiresAt`. */
  sign(path: string, expiresAt: Date): string {
    const expires = Math.floor(expiresAt.getTime() / 1000);
    return `expires=${expires}&signature=${this.#mac(path, expires)}`;
  }

  /** Throws `Unauthenticated` unless the signature matches and has not expired. */
  verify(path: string, expires: string | undefined, signature: string | undefined, now = Date.now()): void {
    if (expires === undefined || signature === undefined || !/^\d{1,12}$/.test(expires)) {
      throw new AppError('Unauthenticated', 'missing API key or signed query (expires, signature)');
    }
    if (!safeEqual(this.#mac(path, Number(expires)), signature)) {
      throw new AppError('Unauthenticated', 'invalid URL signature');
    }
    if (Number(expires) * 1000 < now) throw new AppError('Unauthenticated', 'signed URL has expired');
  }

  #mac(path: string, expires: number): string {
    return createHmac('sha256', this.#secret).update(`${path}\n${expires}`).digest('hex');
  }
}
