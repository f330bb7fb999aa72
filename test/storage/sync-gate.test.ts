import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SYNC_BUDGET_MS, OVERRUNS_TO_CLOSE, RUNS_WATCHED, SyncGate } from '../../src/storage/providers/local/sync-gate.ts';

/** A gate on a clock the test moves; `took(ms)` makes the synchronous version take that long. */
function gate(budgetMs?: number) {
  let now = 1000;
  const g = new SyncGate({ budgetMs, pauseMs: 10_000, now: () => now });
  const ran: string[] = [];
  const step = (took: number, fail = false) => g.run(
    () => { now += took; ran.push('sync'); if (fail) throw new Error('ENOENT'); return 'ok'; },
    async () => { ran.push('async'); return 'ok'; },
  );
  return { g, ran, step, wait: (ms: number) => { now += ms; } };
}

describe('SyncGate', () => {
  it('runs the synchronous version while it stays within the budget', async () => {
    const { g, ran, step } = gate();
    assert.equal(await step(DEFAULT_SYNC_BUDGET_MS), 'ok');
    assert.equal(await step(0.01), 'ok');
    assert.deepEqual(ran, ['sync', 'sync']);
    assert.equal(g.open, true);
  });

  it('moves to the asynchronous version for a pause once enough recent runs overran, then tries again', async () => {
    const { g, ran, step, wait } = gate();
    const slow = DEFAULT_SYNC_BUDGET_MS + 5;
    for (let i = 1; i < OVERRUNS_TO_CLOSE; i++) await step(slow);
    assert.equal(g.open, true, 'a few overruns (a preempted thread) keep it open');
    await step(slow);
    assert.equal(g.open, false);
    ran.length = 0;
    await step(0);
    wait(9_999);
    await step(0);
    wait(1);
    await step(0);
    assert.deepEqual(ran, ['async', 'async', 'sync']);
    assert.equal(g.open, true, 'a new watch starts after the pause');
  });

  it('forgets overruns older than the runs it watches', async () => {
    const { g, step } = gate();
    const slow = DEFAULT_SYNC_BUDGET_MS + 5;
    for (let round = 0; round < 5; round++) {
      for (let i = 1; i < OVERRUNS_TO_CLOSE; i++) await step(slow);
      for (let i = OVERRUNS_TO_CLOSE - 1; i < RUNS_WATCHED; i++) await step(0);
    }
    assert.equal(g.open, true);
  });

  it('gives a synchronous error as a rejection, and slow failures count as overruns', async () => {
    const { g, step } = gate();
    await assert.rejects(step(0, true), /ENOENT/);
    assert.equal(g.open, true);
    for (let i = 0; i < OVERRUNS_TO_CLOSE; i++) await assert.rejects(step(50, true), /ENOENT/);
    assert.equal(g.open, false);
  });

  it('tells onClose each time it closes, with the pause', async () => {
    let now = 0;
    const closes: number[] = [];
    const g = new SyncGate({ pauseMs: 5_000, now: () => now, onClose: (pauseMs) => closes.push(pauseMs) });
    const slow = () => g.run(() => { now += DEFAULT_SYNC_BUDGET_MS + 1; }, async () => undefined);
    for (let i = 0; i < OVERRUNS_TO_CLOSE; i++) await slow();
    assert.deepEqual(closes, [5_000]);
    now += 5_000;
    for (let i = 0; i < OVERRUNS_TO_CLOSE; i++) await slow();
    assert.deepEqual(closes, [5_000, 5_000]);
  });

  it('with a budget of 0 never runs synchronously', async () => {
    const { g, ran, step } = gate(0);
    await step(0);
    assert.deepEqual(ran, ['async']);
    assert.equal(g.open, false);
  });
});
