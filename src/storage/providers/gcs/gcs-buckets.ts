/**
 * Which buckets exist, checked once per bucket and store instance.
 *
 * Every operation first makes sure its bucket exists (`GET /b/<bucket>`, one
 * request per bucket and process; positive answers are cached), so a missing
 * bucket is reported as such and, on writes, as a configuration problem.
 * A service account without `storage.buckets.get` gets 403 there: the bucket
 * is then assumed to exist and object requests decide.
 *
 * The firebase-tools emulator has no bucket resource (every bucket "exists"
 * once touched and `GET /b/<bucket>` is always 404): against it only buckets
 * passed to {@link BucketRegistry.ensure} are usable.
 */
import type { Storage } from '@google-cloud/storage';
import { validateBucket } from '../../keys.ts';
import { describeFailure, gcsError, toGcsError, type GcsErrorContext } from './gcs-errors.ts';

type Probe = 'exists' | 'missing' | 'unknown';

/** Bucket existence checks and creation for one store. */
export class BucketRegistry {
  readonly #storage: Storage;
  readonly #endpoint: string;
  readonly #known = new Set<string>();
  readonly #probes = new Map<string, Promise<Probe>>();

  constructor(storage: Storage, endpoint: string) {
    this.#storage = storage;
    this.#endpoint = endpoint;
  }

  /**
   * Resolves when `bucket` exists (or cannot be checked); a missing bucket is
   * `NotFound`, or `ConfigInvalid` when `write` is set.
   */
  async require(bucket: string, write: boolean): Promise<void> {
    validateBucket(bucket);
    if (this.#known.has(bucket)) return;
    const state = await this.#probe(bucket);
    if (state !== 'missing') {
      this.#known.add(bucket);
      return;
    }
    const ctx = { bucket, endpoint: this.#endpoint };
    throw gcsError(write ? 'ConfigInvalid' : 'NotFound', `bucket ${bucket} does not exist: create it or set STORAGE_CREATE_BUCKETS=true`, ctx);
  }

  /**
   * Creates `bucket` when missing. When creation fails (no permission, name
   * taken, or an emulator without bucket creation) but the bucket can be listed,
   * it is usable and accepted; otherwise the creation error is raised.
   */
  async ensure(bucket: string): Promise<void> {
    validateBucket(bucket);
    if (this.#known.has(bucket)) return;
    const ctx: GcsErrorContext = { bucket, endpoint: this.#endpoint, write: true };
    if ((await this.#probe(bucket)) !== 'missing') {
      this.#known.add(bucket);
      return;
    }
    try {
      await this.#storage.createBucket(bucket);
    } catch (err) {
      if (!(await this.#listable(bucket))) throw creationError(err, ctx);
    }
    this.#known.add(bucket);
  }

  /** Concurrent checks of one bucket share one request; answers are not cached here. */
  #probe(bucket: string): Promise<Probe> {
    let probe = this.#probes.get(bucket);
    if (probe === undefined) {
      probe = this.#exists(bucket).finally(() => this.#probes.delete(bucket));
      this.#probes.set(bucket, probe);
    }
    return probe;
  }

  async #exists(bucket: string): Promise<Probe> {
    try {
      const [exists] = await this.#storage.bucket(bucket).exists();
      return exists ? 'exists' : 'missing';
    } catch (err) {
      if (describeFailure(err).status === 403) return 'unknown';
      throw toGcsError(err, { bucket, endpoint: this.#endpoint });
    }
  }

  async #listable(bucket: string): Promise<boolean> {
    try {
      await this.#storage.bucket(bucket).getFiles({ maxResults: 1, autoPaginate: false });
      return true;
    } catch {
      return false;
    }
  }
}

function creationError(err: unknown, ctx: GcsErrorContext): Error {
  const mapped = toGcsError(err, ctx);
  if (describeFailure(err).status === 409) {
    return gcsError('ConfigInvalid', `bucket name ${ctx.bucket ?? '?'} is taken by another project: choose another name`, ctx, mapped.cause);
  }
  return gcsError(mapped.kind, `cannot create bucket ${ctx.bucket ?? '?'}: ${mapped.message}`, ctx, mapped.cause);
}
