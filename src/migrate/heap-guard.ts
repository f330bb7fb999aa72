/**
 * Keeps a long migration's resident memory flat. Streaming thousands of
 * objects allocates one 64 KiB buffer per chunk read, with very few
 * JavaScript objects around them: V8 sees little heap growth, collects
 * rarely, and dead buffers pile up (measured: 30-60 MiB at a time), which
 * the C allocator then keeps as resident memory. V8 also grows its young
 * generation under the SDKs' allocation rate (measured: 128 MiB of new
 * space for 30 MiB in use). Heap size flags only apply when a process
 * starts, so:
 *
 * - the young generation is kept at the size it has (its growth factor is
 *   read at each growth: setting it to 1 stops growth from now on);
 * - once buffers grew by {@link BUFFER_STEP} since the last collection, a
 *   young-generation collection (under a millisecond) frees the dead ones,
 *   and a full one follows if that was not enough (buffers of a slow socket
 *   outlive two young collections and move to the old generation);
 * - should the heap itself grow by {@link HEAP_BUDGET} over what was live
 *   after the last full collection, a full one is asked for.
 *
 * Measured on the migrate benchmark (10,020 objects, 2.9 GB): peak RSS
 * 235 MiB instead of 300-360, with about 100 young and 3 full collections.
 * Only the migrate commands use this: a server keeps V8's own heuristics
 * (and `npm start` sets a small young generation at start instead).
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Buffer growth that triggers a young-generation collection. */
const BUFFER_STEP = 8 * 1024 * 1024;
/** Heap growth over the last live size that triggers a full collection. */
const HEAP_BUDGET = 64 * 1024 * 1024;
const CHECK_MS = 25;

type Collect = (options?: { type: 'minor' | 'major' }) => void;

/** `gc`, exposed at run time (the flag only adds the function to new contexts). */
function exposeGc(): Collect | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Collect) : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes held by ArrayBuffers (every Buffer), as Node counts them. */
function bufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

/** Starts watching the heap; returns a function that stops watching. */
export function guardHeap(): () => void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  const gc = exposeGc();
  if (gc === undefined) return () => undefined;
  let buffers = bufferBytes();
  let live = v8.getHeapStatistics().used_heap_size;
  const timer = setInterval(() => {
    const heapGrew = v8.getHeapStatistics().total_heap_size > live + HEAP_BUDGET;
    if (!heapGrew && bufferBytes() <= buffers + BUFFER_STEP) return;
    if (!heapGrew) gc({ type: 'minor' });
    if (heapGrew || bufferBytes() > buffers + 2 * BUFFER_STEP) {
      gc({ type: 'major' });
      live = v8.getHeapStatistics().used_heap_size;
    }
    buffers = bufferBytes();
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
