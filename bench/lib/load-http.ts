/**
 * The client side of the load test's HTTP: which instance a request goes to
 * (a client-side load balancer that stops using an instance once its
 * `/healthz` fails), one request with a hang guard, and the retry of a failed
 * request against the other instances. Every failed attempt is recorded with
 * its instance and times, so the fault test can tell which failures it caused.
 */

/** Why an attempt failed: no HTTP reply (reset, refused, truncated body), a non-2xx status, or the hang guard. */
export type FailureKind = 'network' | 'status' | 'timeout';

/** One failed attempt of a request. */
export interface AttemptFailure {
  op: string;
  instance: number;
  kind: FailureKind;
  status?: number;
  message: string;
  /** performance.now() when the attempt was sent and when it failed. */
  startedAt: number;
  endedAt: number;
}

/** A non-2xx reply, with the start of its body. */
export class StatusError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string, what: string) {
    super(`${what} answered ${status}: ${body.slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}

/** A reply whose body is not what was stored: never retried, always reported. */
export class CorruptBodyError extends Error {}

/** The instances as the clients see them. */
export class Router {
  readonly urls: readonly string[];
  readonly apiKey: string;
  /** performance.now() when an instance was found down; undefined while it is up. */
  readonly downAt: Array<number | undefined>;
  readonly #probing = new Map<number, Promise<void>>();

  constructor(urls: readonly string[], apiKey: string) {
    this.urls = urls;
    this.apiKey = apiKey;
    this.downAt = urls.map(() => undefined);
  }

  /** Indexes of the instances still in use. */
  live(): number[] {
    return this.urls.flatMap((_, i) => (this.downAt[i] === undefined ? [i] : []));
  }

  /** The instance for a request: round robin over the live ones by `turn`. */
  pick(turn: number): number {
    const live = this.live();
    if (live.length === 0) throw new Error('no Stowage instance is up');
    return live[turn % live.length] ?? 0;
  }

  /** After a network failure: probes `/healthz` once (concurrent callers share the probe); a failed probe takes the instance out. */
  suspect(i: number): Promise<void> {
    if (this.downAt[i] !== undefined) return Promise.resolve();
    let probe = this.#probing.get(i);
    if (probe === undefined) {
      probe = healthy(this.urls[i] ?? '').then((ok) => {
        if (!ok) this.downAt[i] ??= performance.now();
        this.#probing.delete(i);
      });
      this.#probing.set(i, probe);
    }
    return probe;
  }
}

async function healthy(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Settings of one request. */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  /** Hang guard: a request slower than this is aborted and counted as a `timeout` failure. */
  timeoutMs: number;
}

/** Sends a request and reads the whole body; non-2xx throws {@link StatusError}. */
export async function send(router: Router, instance: number, spec: RequestSpec, what: string): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(`${router.urls[instance]}${spec.path}`, {
    method: spec.method,
    headers: { 'x-api-key': router.apiKey, ...spec.headers },
    ...(spec.body === undefined ? {} : { body: spec.body }),
    signal: AbortSignal.timeout(spec.timeoutMs),
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status < 200 || res.status > 299) throw new StatusError(res.status, body.toString('utf8', 0, 500), what);
  return { res, body };
}

/** A failed attempt's kind and message. */
export function classify(err: unknown): { kind: FailureKind; status?: number; message: string } {
  if (err instanceof StatusError) return { kind: 'status', status: err.status, message: err.message };
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'timeout', message: e.message ?? 'timed out' };
  const cause = e.cause === undefined ? '' : ` (${e.cause.code ?? ''} ${e.cause.message ?? ''})`;
  return { kind: 'network', message: `${e.message ?? String(err)}${cause}` };
}

/** Which failures are worth another instance: no reply, a hang, or a server-side 5xx. */
function retryable(f: { kind: FailureKind; status?: number }): boolean {
  return f.kind !== 'status' || (f.status ?? 0) >= 500;
}

export interface RetryContext {
  router: Router;
  onFailure(f: AttemptFailure): void;
  maxAttempts: number;
}

/**
 * Runs `attempt` on the instance picked for `turn`; on a retryable failure,
 * on the next live instance, up to `maxAttempts` in all (a short pause once
 * every instance has been tried). Corrupt bodies and 4xx are not retried.
 */
export async function withRetries<T>(ctx: RetryContext, op: string, turn: number, attempt: (instance: number) => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    const instance = ctx.router.pick(turn + n);
    const startedAt = performance.now();
    try {
      return await attempt(instance);
    } catch (err) {
      if (err instanceof CorruptBodyError) throw err;
      const f = classify(err);
      ctx.onFailure({ op, instance, ...f, startedAt, endedAt: performance.now() });
      if (!retryable(f) || n + 1 >= ctx.maxAttempts) throw err;
      if (f.kind === 'network') await ctx.router.suspect(instance);
      if ((n + 1) % ctx.router.urls.length === 0) await new Promise((r) => setTimeout(r, 200 * (n + 1)));
    }
  }
}
