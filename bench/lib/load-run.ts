/**
 * The clients of the load test: each one loops over a weighted mix of
 * operations, one request at a time, until a deadline (the bench) or a fixed
 * number of operations (the fault test), spreading its requests round robin
 * over the live instances. An operation that fails after every retry is
 * counted and the client goes on.
 */
import { seededRandom } from './stats.ts';
import { downloadOne, listOne, previewOne, rangeOne, uploadOne, type ClientState, type LoadContext } from './load-ops.ts';

/** Relative weights of the operations; `largeShare` is the fraction of uploads that are large files. */
export interface OpMix {
  upload: number;
  download: number;
  range: number;
  list: number;
  preview: number;
  largeShare: number;
}

/** The bench's mix: reads dominate, as for a dataset being used, with a steady stream of new uploads. */
export const DEFAULT_MIX: OpMix = { upload: 25, download: 30, range: 15, list: 10, preview: 20, largeShare: 0.02 };

export interface LoadPlan {
  clients: number;
  /** Stop taking new operations after this long (the bench)… */
  seconds?: number;
  /** …or after this many operations per client (the fault test). */
  opsPerClient?: number;
  mix: OpMix;
  seed: number;
}

type OpKind = 'upload' | 'download' | 'range' | 'list' | 'preview';
const KINDS: readonly OpKind[] = ['upload', 'download', 'range', 'list', 'preview'];

function pickKind(mix: OpMix, r: number): OpKind {
  const total = KINDS.reduce((s, k) => s + mix[k], 0);
  let x = r * total;
  for (const k of KINDS) {
    x -= mix[k];
    if (x < 0) return k;
  }
  return 'upload';
}

/** A base image: a large one with probability `largeShare`, else one of the small ones. */
function pickBase(ctx: LoadContext, c: ClientState, largeShare: number) {
  const large = ctx.pool.filter((b) => b.large);
  const small = ctx.pool.filter((b) => !b.large);
  const from = large.length > 0 && c.rand() < largeShare ? large : small;
  const base = from[Math.floor(c.rand() * from.length)];
  if (base === undefined) throw new Error('the body pool is empty');
  return base;
}

/** One operation of the mix; reads fall back to an upload while nothing is acknowledged yet. */
async function runOp(ctx: LoadContext, c: ClientState, kind: OpKind, mix: OpMix): Promise<void> {
  const target = kind === 'preview' ? ctx.registry.pick(c.rand, true) : ctx.registry.pick(c.rand);
  if (kind === 'upload' || kind === 'list' || target === undefined) {
    if (kind === 'list') return listOne(ctx, c);
    await uploadOne(ctx, c, pickBase(ctx, c, mix.largeShare));
    return;
  }
  if (kind === 'download') return downloadOne(ctx, c, target);
  if (kind === 'range') return rangeOne(ctx, c, target);
  return previewOne(ctx, c, target);
}

async function client(ctx: LoadContext, plan: LoadPlan, index: number, deadline: number): Promise<void> {
  const c: ClientState = { index, rand: seededRandom(plan.seed * 1000 + index), turn: index, seq: 0 };
  for (let n = 0; ; n++) {
    if (plan.opsPerClient !== undefined && n >= plan.opsPerClient) return;
    if (performance.now() >= deadline) return;
    try {
      await runOp(ctx, c, pickKind(plan.mix, c.rand()), plan.mix);
    } catch {
      // Already recorded (failed attempts, corrupt bodies); the client goes on like a real one would.
      ctx.stats.failedOps++;
    }
  }
}

/** Runs the clients to the end of the plan; resolves with the elapsed seconds. */
export async function runClients(ctx: LoadContext, plan: LoadPlan): Promise<number> {
  const started = performance.now();
  const deadline = plan.seconds === undefined ? Number.POSITIVE_INFINITY : started + plan.seconds * 1000;
  await Promise.all(Array.from({ length: plan.clients }, (_, i) => client(ctx, plan, i, deadline)));
  return (performance.now() - started) / 1000;
}

/** Uploads `count` small images before the clients start (round robin over the instances), so reads have targets at once. */
export async function seedUploads(ctx: LoadContext, count: number): Promise<void> {
  const c: ClientState = { index: 9999, rand: seededRandom(4242), turn: 0, seq: 0 };
  const small = ctx.pool.filter((b) => !b.large);
  for (let i = 0; i < count; i++) {
    const base = small[i % small.length];
    if (base !== undefined) await uploadOne(ctx, c, base);
  }
}
