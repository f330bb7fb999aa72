/**
 * The load fault test of the scale-out issue: three Stowage processes on one
 * PostgreSQL catalog and one radosgw under a short load (30 clients, a fixed
 * number of operations each), one instance killed with SIGKILL after a fixed
 * number of acknowledged uploads. Clients retry failed requests on the other
 * instances. Afterwards every acknowledged upload must download byte-identical
 * (SHA-256) through each surviving instance, no body may ever have been
 * corrupt, and the only failed requests are those the dead instance had in
 * flight. The client and cluster code is the load bench's (bench/lib/load-*).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AttemptFailure } from '../../bench/lib/load-http.ts';
import { fetchVerified, type LoadContext } from '../../bench/lib/load-ops.ts';
import { runClients, seedUploads, type OpMix } from '../../bench/lib/load-run.ts';
import { startLoadSession, type LoadSession } from '../../bench/lib/load-session.ts';
import { LoadStats, problemLines, statsTable } from '../../bench/lib/load-stats.ts';
import { runPool } from '../../bench/lib/pool.ts';

const CLIENTS = 30;
const OPS_PER_CLIENT = 12;
const SEED_UPLOADS = 12;
/** The kill point: this many uploads acknowledged to the clients (after the seeds), not a time. */
const KILL_AFTER_ACKS = 30;
const VICTIM = 1;
// Upload-heavy, so the kill lands among uploads in flight; a few large (spooled, multipart) ones too.
const MIX: OpMix = { upload: 40, download: 25, range: 10, list: 10, preview: 15, largeShare: 0.04 };

/** Every failed attempt was on the victim, with no HTTP reply, ending after the kill, sent before the clients knew it was down. */
function assertOnlyInFlightFailed(failures: readonly AttemptFailure[], killedAt: number, downAt: number): void {
  for (const f of failures) {
    const what = `${f.op} on instance ${f.instance}: ${f.kind} ${f.message}`;
    assert.equal(f.instance, VICTIM, `only the killed instance fails: ${what}`);
    assert.equal(f.kind, 'network', `a dead instance fails by closing its sockets, not with a reply: ${what}`);
    assert.ok(f.endedAt >= killedAt, `no failure before the kill: ${what}`);
    assert.ok(f.startedAt <= downAt, `no request sent to it once it was known down: ${what}`);
  }
}

/** Every acknowledged upload, through each surviving instance: SHA-256 of the body equal to the upload's (no retries here). */
async function readBackEverywhere(ctx: LoadContext, survivors: readonly number[]): Promise<void> {
  const acked = ctx.registry.acked;
  await runPool(acked.length * survivors.length, 4, async (n) => {
    const u = acked[Math.floor(n / survivors.length)];
    const i = survivors[n % survivors.length];
    if (u !== undefined && i !== undefined) await fetchVerified(ctx, i, u);
  });
}

describe('load on three instances, one killed with SIGKILL partway', () => {
  let dir: string;
  let s: LoadSession | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-load-fault-'));
    s = await startLoadSession({ dir, instances: 3, memstoreBytes: 2 * 2 ** 30, datasets: 4, projects: 1, timeoutMs: 120_000, maxAttempts: 6 });
  });
  after(async () => {
    await s?.cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // The timeout is a hang guard only (radosgw alone takes ~15 s to start on a loaded machine).
  it('loses no acknowledged upload, corrupts no body, fails only the dead instance\'s requests', { timeout: 900_000 }, async (t) => {
    const { ctx, cluster } = s as LoadSession;
    const victim = cluster.instances[VICTIM];
    assert.ok(victim !== undefined);
    await seedUploads(ctx, SEED_UPLOADS);
    assert.deepEqual(problemLines(ctx.stats), [], 'seeding through all three instances');
    ctx.stats = new LoadStats();

    let killedAt: number | undefined;
    ctx.onAck = (count) => {
      if (count !== SEED_UPLOADS + KILL_AFTER_ACKS) return;
      killedAt = performance.now();
      process.kill(victim.pid, 'SIGKILL');
    };
    const seconds = await runClients(ctx, { clients: CLIENTS, opsPerClient: OPS_PER_CLIENT, mix: MIX, seed: 7 });
    const st = ctx.stats;
    for (const line of [...statsTable(st, seconds), ...problemLines(st, 50)]) t.diagnostic(line);

    assert.ok(killedAt !== undefined, `instance ${VICTIM} was never killed: only ${ctx.registry.acked.length - SEED_UPLOADS} uploads acknowledged`);
    assert.deepEqual(st.corrupt, [], 'no corrupt body, ever');
    assert.equal(st.failedOps, 0, 'every operation succeeded, on another instance if need be');
    const downAt = ctx.router.downAt[VICTIM];
    assert.ok(downAt !== undefined, 'the clients found the killed instance down');
    assertOnlyInFlightFailed(st.failures, killedAt, downAt);
    t.diagnostic(`${st.failures.length} attempts failed on the killed instance and were retried elsewhere; ${st.recoveredAdds} retried bulk.add found the image added by the lost attempt`);
    const survivors = cluster.instances.flatMap((_, i) => (i === VICTIM ? [] : [i]));
    await readBackEverywhere(ctx, survivors);
    const acked = ctx.registry.acked;
    t.diagnostic(`${acked.length} acknowledged uploads (${acked.filter((u) => u.via === VICTIM).length} acknowledged by the killed instance) read back intact through instances ${survivors.join(' and ')}`);
  });
});
