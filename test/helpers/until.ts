/**
 * Polls `cond` until it gives a value other than `undefined` or `false`, and
 * returns that value; fails naming `what` after `seconds` (a hang guard, not
 * a speed check).
 */
export async function until<T>(
  cond: () => Promise<T | undefined | false> | T | undefined | false, what: string, seconds = 120,
): Promise<T> {
  for (const end = Date.now() + seconds * 1000; ; await new Promise((r) => setTimeout(r, 25))) {
    const v = await cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
  }
}
