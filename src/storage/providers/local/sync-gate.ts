/**
 * Lets short file-system steps run synchronously on the event loop while
 * they stay fast, and sends them to the thread pool once they are not.
 *
 * Why: each asynchronous fs call is a round trip through libuv's thread
 * pool, which wakes a pool thread and then the event loop. Resolving,
 * opening and reading the head of an original for a cold preview took 7
 * such round trips; on this project's virtual machines each wake-up costs
 * tens of microseconds of CPU, and together they were about a tenth of a
 * preview's CPU (run synchronously, the steps gave about 13% more cold
 * previews per second in an A/B on 2 cores: bench/RESULTS.md, "previews").
 * When the dentry and page caches hold the file, the same steps take
 * microseconds on the event loop; nginx opens and reads files from its event
 * loop for the same reason.
 *
 * The risk is a slow disk (a cold spinning disk, a network mount): when
 * {@link OVERRUNS_TO_CLOSE} of the last {@link RUNS_WATCHED} synchronous runs
 * took longer than the budget, the gate closes for a pause, during which
 * every step runs in the pool, so a slow disk blocks the event loop a few
 * times per pause. One overrun is not enough: on a busy machine the event
 * loop's thread is sometimes preempted for a few ms in the middle of a
 * 50 µs step (measured: about once in a few hundred cold previews on 2 cores).
 */

/** Options of {@link SyncGate}. */
export interface SyncGateOptions {
  /**
   * Longest a synchronous run may take, in ms, before the gate closes.
   * 0 never runs synchronously. Default {@link DEFAULT_SYNC_BUDGET_MS}.
   */
  readonly budgetMs?: number | undefined;
  /** How long the gate stays closed, in ms. Default {@link DEFAULT_SYNC_PAUSE_MS}. */
  readonly pauseMs?: number | undefined;
  /** Clock in ms (tests); default `performance.now`. */
  readonly now?: (() => number) | undefined;
  /** Called each time the gate closes, with how long it stays closed (ms). */
  readonly onClose?: ((pauseMs: number) => void) | undefined;
}

/** Default budget: far above a cached open and read (tens of µs), far below a disk seek plus a few. */
export const DEFAULT_SYNC_BUDGET_MS = 2;
/** Default pause once the gate closes. */
export const DEFAULT_SYNC_PAUSE_MS = 30_000;
/** How many of the latest synchronous runs are watched for overruns. */
export const RUNS_WATCHED = 8;
/** Overruns among them that close the gate. */
export const OVERRUNS_TO_CLOSE = 4;

/** See the module comment. */
export class SyncGate {
  readonly #budgetMs: number;
  readonly #pauseMs: number;
  readonly #now: () => number;
  readonly #onClose: ((pauseMs: number) => void) | undefined;
  #closedUntil = Number.NEGATIVE_INFINITY;
  /** Whether each of the latest runs overran, oldest first. */
  #recent: boolean[] = [];

  constructor(options: SyncGateOptions = {}) {
    this.#budgetMs = options.budgetMs ?? DEFAULT_SYNC_BUDGET_MS;
    this.#pauseMs = options.pauseMs ?? DEFAULT_SYNC_PAUSE_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#onClose = options.onClose;
  }

  /** Whether the next {@link run} runs its synchronous version. */
  get open(): boolean {
    return this.#budgetMs > 0 && this.#now() >= this.#closedUntil;
  }

  /**
   * Runs `sync` on the event loop when the gate is open, else `async`; either
   * way the result (or error) comes as a promise. A run that threw counts
   * like any other.
   */
  run<T>(sync: () => T, async: () => Promise<T>): Promise<T> {
    if (!this.open) return async();
    const started = this.#now();
    try {
      return Promise.resolve(sync());
    } catch (err) {
      return Promise.reject(err as Error);
    } finally {
      this.#record(started);
    }
  }

  #record(started: number): void {
    const ended = this.#now();
    this.#recent.push(ended - started > this.#budgetMs);
    if (this.#recent.length > RUNS_WATCHED) this.#recent.shift();
    if (this.#recent.filter(Boolean).length < OVERRUNS_TO_CLOSE) return;
    this.#closedUntil = ended + this.#pauseMs;
    this.#recent = [];
    this.#onClose?.(this.#pauseMs);
  }
}
