// @ts-check
/**
 * Live progress of one migration job: polls `migrations.status` once a
 * second while it runs and shows a progress bar, objects, bytes, throughput
 * (from the bytes between polls), ETA and failures, with a Cancel button.
 */
import { call } from './api.js';
import { busy, fill, formatBytes, formatDuration, h, notice } from './dom.js';

const POLL_MS = 1000;

/**
 * Done and total units of a job: items for a project job, objects for a storage job.
 * @param {any} job
 * @returns {{ done: number, total: number | null, unit: string, bytes: number, failed: number, failures: any[] }}
 */
export function progressOf(job) {
  const p = job.progress ?? {};
  const failures = Array.isArray(p.failures) ? p.failures : [];
  const unit = job.kind === 'storage' ? 'objects' : job.kind === 'links-import' ? 'lines' : 'items';
  // Newer servers send `counters`, the same for every kind of job.
  const c = job.counters;
  if (c && typeof c.done === 'number') return { done: c.done, total: c.total ?? null, unit, bytes: c.bytes ?? 0, failed: c.failed ?? 0, failures };
  if (job.kind === 'storage') return { done: p.objects ?? 0, total: p.objectsTotal ?? null, unit, bytes: p.bytes ?? 0, failed: p.failed ?? 0, failures };
  return { done: p.scanned ?? 0, total: p.itemsTotal ?? null, unit, bytes: p.bytes ?? 0, failed: p.failed ?? 0, failures };
}

/**
 * @param {HTMLElement} box @param {number} id @param {() => void} onEnd
 * @returns {() => void} stops watching
 */
export function watchJob(box, id, onEnd) {
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {{ at: number, bytes: number } | null} */
  let last = null;
  let rate = 0;
  const tick = async () => {
    if (stopped) return;
    let job;
    try {
      job = await call('migrations.status', { id });
    } catch (err) {
      fill(box, notice('error', `Progress of migration ${id} cannot be read: ${err instanceof Error ? err.message : err}`));
      timer = setTimeout(() => void tick(), POLL_MS * 3);
      return;
    }
    const p = progressOf(job);
    const now = performance.now();
    if (last !== null && now > last.at) rate = 0.7 * rate + 0.3 * (Math.max(0, p.bytes - last.bytes) / ((now - last.at) / 1000));
    last = { at: now, bytes: p.bytes };
    draw(box, job, p, rate, () => { stopped = true; clearTimeout(timer); });
    if (job.status === 'running') timer = setTimeout(() => void tick(), POLL_MS);
    else onEnd();
  };
  void tick();
  return () => { stopped = true; clearTimeout(timer); };
}

/** @param {HTMLElement} box @param {any} job @param {ReturnType<typeof progressOf>} p @param {number} rate @param {() => void} stop */
function draw(box, job, p, rate, stop) {
  const pct = job.status === 'done' ? 100 : p.total ? Math.min(99, Math.floor((100 * p.done) / Math.max(1, p.total))) : 0;
  const left = p.total && p.done > 0 && rate > 0 && p.bytes > 0 ? ((p.total - p.done) / p.done) * (p.bytes / rate) : NaN;
  const cancel = job.status === 'running' ? h('button', { type: 'button', class: 'danger', 'data-action': 'cancel' }, 'Cancel') : null;
  cancel?.addEventListener('click', () => void busy(cancel, async () => {
    try {
      await call('migrations.cancel', { id: job.id });
    } catch (err) {
      box.append(notice('error', `Not cancelled: ${err instanceof Error ? err.message : err}`));
    }
  }));
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, 'aria-label': `Migration ${job.id}`, 'data-role': 'progress' },
    h('div', { class: 'progress-fill' }));
  /** @type {HTMLElement} */ (bar.firstChild).style.width = `${pct}%`;
  fill(box, h('section', { class: 'card', 'data-job': job.id, 'data-status': job.status },
    h('h3', {}, `Migration ${job.id} (${job.kind ?? 'project'}) → ${job.target ?? job.to ?? ''}`),
    bar, h('p', { class: 'percent', 'data-role': 'percent' }, `${pct}% · ${job.status}`),
    h('dl', { class: 'report' },
      h('dt', {}, p.unit[0]?.toUpperCase() + p.unit.slice(1)), h('dd', {}, `${p.done} of ${p.total ?? '?'}`),
      h('dt', {}, 'Bytes sent'), h('dd', {}, formatBytes(p.bytes)),
      h('dt', {}, 'Throughput'), h('dd', {}, job.status === 'running' ? `${formatBytes(rate)}/s` : '—'),
      h('dt', {}, 'Time left'), h('dd', {}, job.status === 'running' ? formatDuration(left) : '—'),
      h('dt', {}, 'Failures'), h('dd', { 'data-role': 'failed' }, String(p.failed))),
    h('p', { 'data-role': 'message' }, job.message ?? ''),
    p.failures.length > 0 ? h('ul', { class: 'failures' }, p.failures.slice(0, 50).map((/** @type {any} */ f) => h('li', {}, `${f.name ?? f.key}: ${f.error}`))) : null,
    cancel));
  if (job.status !== 'running') stop();
}
