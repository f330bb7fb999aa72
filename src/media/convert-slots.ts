/**
 * A limit on image and video work in flight (sharp pipelines, ffmpeg), so a
 * burst of cold previews queues instead of decoding hundreds of originals at
 * once: memory stays at roughly `limit` originals plus their working set.
 */
import { availableParallelism } from 'node:os';
import { AppError } from '../errors.ts';

/**
 * Default: two jobs per core. sharp runs each image on one libvips thread on
 * glibc Linux (its default concurrency there is 1), and a job also waits for
 * its original to be read, so one job per core leaves cores idle.
 */
export const DEFAULT_SLOTS = 2 * Math.max(1, availableParallelism());
/** Jobs allowed to wait; beyond that a request gets 503 with Retry-After. */
export const DEFAULT_MAX_QUEUED = 512;

/** Counting semaphore with a bounded FIFO queue. */
export class WorkSlots {
  readonly limit: number;
  readonly maxQueued: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit = DEFAULT_SLOTS, maxQueued = DEFAULT_MAX_QUEUED) {
    this.limit = Math.max(1, limit);
    this.maxQueued = maxQueued;
  }

  /** Jobs running now. */
  get active(): number {
    return this.#active;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a slot; resolves with its release function (idempotent).
   * @throws AppError `Unavailable` when the queue is full.
   */
  async acquire(): Promise<() => void> {
    if (this.#active >= this.limit) {
      if (this.#waiting.length >= this.maxQueued) {
        throw new AppError('Unavailable', `too many previews and conversions in progress (${this.#active} running, ${this.#waiting.length} queued): retry shortly`);
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active += 1;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release();
    };
  }

  /** Runs `job` in a slot. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await job();
    } finally {
      release();
    }
  }

  #release(): void {
    // The slot passes straight to the next waiter, so `active` stays counted.
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#active -= 1;
  }
}
