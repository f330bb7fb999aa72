/**
 * Noticing that one file changed, robustly: `fs.watch` on its folder (so an
 * editor that writes a new file and renames it over the old one is still
 * seen, unlike a watch on the file's inode), backed by a `stat` poll for
 * filesystems where watch events never come (network mounts, some bind
 * mounts). Bursts of events are debounced into one callback.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Options of {@link FileWatcher}. */
export interface FileWatchOptions {
  /** Called (never concurrently with itself) after the file changed. */
  onChange: () => Promise<void>;
  /** Quiet time after the last event before `onChange`; default 200 ms. */
  debounceMs?: number | undefined;
  /** `stat` poll interval; default 2000 ms; 0 turns polling off. */
  pollIntervalMs?: number | undefined;
}

/** Identity and version of the file as `stat` sees it ("missing" when absent). */
async function signature(path: string): Promise<string> {
  try {
    const st = await stat(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

/** Watches one file; {@link FileWatcher.close} stops every timer and watcher. */
export class FileWatcher {
  readonly #path: string;
  readonly #options: FileWatchOptions;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #seen = 'missing';
  #closed = false;

  constructor(path: string, options: FileWatchOptions) {
    this.#path = path;
    this.#options = options;
  }

  /** Starts watching; the file's current state is the baseline (no callback for it). */
  async start(): Promise<void> {
    this.#seen = await signature(this.#path);
    this.#watchFolder();
    const interval = this.#options.pollIntervalMs ?? 2000;
    if (interval > 0) {
      this.#poll = setInterval(() => void this.#checkPoll(), interval);
      this.#poll.unref();
    }
  }

  #watchFolder(): void {
    try {
      const name = basename(this.#path);
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.#schedule();
      });
      // The folder went away (or the watch broke): the poll keeps going and re-watches.
      this.#watcher.on('error', () => this.#unwatch());
    } catch {
      this.#watcher = undefined;
    }
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #checkPoll(): Promise<void> {
    if (this.#watcher === undefined && !this.#closed) this.#watchFolder();
    if ((await signature(this.#path)) !== this.#seen) this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#fire(), this.#options.debounceMs ?? 200);
    this.#debounce.unref();
  }

  async #fire(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        this.#seen = await signature(this.#path);
        if (this.#closed) return;
        await this.#options.onChange().catch(() => undefined);
      } while (this.#again && !this.#closed);
    })();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  /** Stops watching and waits for a callback in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unwatch();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
    await this.#running;
  }
}
