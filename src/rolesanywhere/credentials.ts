/**
 * Temporary S3 credentials from IAM Roles Anywhere, as a credential provider
 * the AWS SDK's S3 client calls before each request (the SDK then signs S3
 * requests with them). Sessions are renewed five minutes before they expire,
 * one CreateSession at a time; a failed renewal keeps the still-valid
 * credentials, is retried with back-off and logged with its reason. The
 * certificate and key are read again for every session, so rotated files take
 * effect without a restart.
 */
import { createLogger } from '../logger.ts';
import { StorageError } from '../storage/errors.ts';
import { S3_PROVIDER } from '../storage/providers/s3/errors.ts';
import { loadSigningMaterial, serialOf, type FieldName } from './material.ts';
import { createSession, type SessionClientOptions, type SessionCredentials } from './session-client.ts';
import {
  fileFieldName, resolveTarget, rolesAnywhereProblems, type RolesAnywhereInput, type RolesAnywhereSettings, type RolesAnywhereTarget,
} from './settings.ts';

/** Renew this long before the session expires (what the AWS credential helper does). */
export const REFRESH_BEFORE_MS = 5 * 60_000;
/** Credentials closer than this to their expiry are not handed out: a request signed now may arrive later. */
export const USABLE_BEFORE_MS = 10_000;
/** Back-off of renewals after failures: doubling from the first to the last. */
export const RETRY_FIRST_MS = 5_000;
export const RETRY_MAX_MS = 60_000;

/** Where warnings go (pino and `console` fit). */
export interface RolesAnywhereLogger {
  warn(...content: unknown[]): void;
  info(...content: unknown[]): void;
}

/** Options of {@link RolesAnywhereCredentials}. */
export interface RolesAnywhereOptions extends SessionClientOptions {
  /** How messages name a field; default the remote_links.yml names (`rolesanywhere.private_key`). */
  readonly fieldName?: FieldName | undefined;
  /** Clock in ms, for expiry decisions and `X-Amz-Date`; default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Where failed renewals are reported; default a pino logger on stdout (level warn). */
  readonly logger?: RolesAnywhereLogger | undefined;
}

/** The credentials the SDK signs with. */
export interface CredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

let fallbackLogger: RolesAnywhereLogger | undefined;

function identity(c: SessionCredentials): CredentialIdentity {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: c.expiration };
}

/** One Roles Anywhere identity (certificate, key, profile, role) and its current session. */
export class RolesAnywhereCredentials {
  /** Sessions created so far. */
  sessions = 0;
  readonly #settings: RolesAnywhereSettings;
  readonly #target: RolesAnywhereTarget;
  readonly #name: FieldName;
  readonly #now: () => number;
  readonly #logger: RolesAnywhereLogger;
  readonly #client: SessionClientOptions;
  #current: SessionCredentials | undefined;
  #inFlight: Promise<SessionCredentials> | undefined;
  #failures = 0;
  #retryAt = 0;

  /**
   * Checks the settings and loads the certificate and key once, so a wrong
   * setting fails here (`ConfigInvalid` naming the field) rather than at the
   * first request. No request is sent.
   */
  constructor(input: RolesAnywhereInput, options: RolesAnywhereOptions = {}) {
    this.#name = options.fieldName ?? fileFieldName;
    const problem = rolesAnywhereProblems(input)[0];
    if (problem !== undefined) throw new StorageError('ConfigInvalid', `${this.#name(problem.field)}: ${problem.message}`, { provider: S3_PROVIDER });
    // No problems means every required field is there.
    const settings = input as RolesAnywhereSettings;
    this.#settings = settings;
    this.#target = resolveTarget(settings);
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? (fallbackLogger ??= createLogger('warn'));
    this.#client = { fetch: options.fetch, timeoutMs: options.timeoutMs };
    loadSigningMaterial(settings, this.#now(), this.#name);
  }

  /**
   * The provider for the SDK's `credentials`. `memoized` tells the SDK not to
   * wrap it in its own cache, which would decide expiry by its own clock and
   * margin; this class does that.
   */
  readonly provider = Object.assign(() => this.get(), { memoized: true as const });

  /** What settings the credentials come from, for error messages (no secrets). */
  describe(): string {
    return `IAM Roles Anywhere (${this.#name('trust_anchor_arn')}, ${this.#name('profile_arn')}, ${this.#name('role_arn')} at ${this.#target.endpoint})`;
  }

  /** Current credentials, renewed first when they expire within five minutes. */
  async get(): Promise<CredentialIdentity> {
    const current = this.#current;
    const now = this.#now();
    if (current !== undefined && now < current.expiration.getTime() - REFRESH_BEFORE_MS) return identity(current);
    if (this.#usable(current, now) && now < this.#retryAt) return identity(current);
    try {
      return identity(await this.#renew());
    } catch (err) {
      // The failure is logged once by #session; callers go on with what still works.
      if (this.#usable(current, this.#now())) return identity(current);
      throw err;
    }
  }

  #usable(c: SessionCredentials | undefined, now: number): c is SessionCredentials {
    return c !== undefined && now < c.expiration.getTime() - USABLE_BEFORE_MS;
  }

  #renew(): Promise<SessionCredentials> {
    this.#inFlight ??= this.#session().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #session(): Promise<SessionCredentials> {
    try {
      const now = this.#now();
      const material = loadSigningMaterial(this.#settings, now, this.#name);
      const issued = await createSession(this.#target, material, now, this.#name, this.#client);
      this.sessions++;
      if (this.#failures > 0) this.#logger.info({ serial: serialOf(material.certificate) }, `${this.describe()}: credentials renewed after ${this.#failures} failed attempt(s)`);
      this.#current = issued;
      this.#failures = 0;
      this.#retryAt = 0;
      return issued;
    } catch (err) {
      this.#failures++;
      const delay = Math.min(RETRY_FIRST_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS);
      this.#retryAt = this.#now() + delay;
      const current = this.#current;
      if (this.#usable(current, this.#now())) {
        const reason = err instanceof Error ? err.message : String(err);
        this.#logger.warn(
          { attempt: this.#failures, validUntil: current.expiration.toISOString(), retryInMs: delay },
          `${this.describe()}: renewing the credentials failed; the current ones are kept until they expire: ${reason}`,
        );
      }
      throw err;
    }
  }
}
