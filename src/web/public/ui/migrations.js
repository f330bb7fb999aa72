// @ts-check
/**
 * Migrations: a dry run first (`migrations.plan`), then the start
 * (`migrations.start`), live progress (`migrations.status`, polled once a
 * second while the job runs: objects, bytes, throughput, ETA, failures),
 * cancel, and the finished runs (`migrations.list`). Project migrations move
 * a project's items to a bucket and re-point them; storage migrations copy
 * the primary buckets to a connection (where the server offers them).
 */
import { call, get } from './api.js';
import { busy, fill, formatBytes, h, notice } from './dom.js';
import { listAll } from './catalog.js';
import { showPlan } from './migration-plan-view.js';
import { watchJob } from './migration-watch.js';

/** @param {HTMLElement} root */
export function render(root) {
  const form = h('form', { class: 'card', noValidate: true, 'aria-label': 'New migration' });
  const plan = h('div', { 'data-role': 'plan', 'aria-live': 'polite' });
  const live = h('div', { 'data-role': 'live' });
  const runs = h('div', { 'data-role': 'runs' });
  const stops = /** @type {Array<() => void>} */ ([]);
  const watch = (/** @type {number} */ id) => { stops.splice(0).forEach((s) => s()); stops.push(watchJob(live, id, () => void loadRuns(runs, watch))); };
  fill(root, h('h2', {}, 'Migrations'), form, plan, live, h('h3', {}, 'Runs'), runs);
  void buildForm(form, plan, watch);
  void loadRuns(runs, watch);
  return () => stops.forEach((s) => s());
}

/** @param {HTMLElement} form @param {HTMLElement} plan @param {(id: number) => void} watch */
async function buildForm(form, plan, watch) {
  const [projects, conns, providers] = await Promise.all([
    listAll('projects.list', {}).catch(() => []), call('remote-storage.connections.list').catch(() => []), get('remote-storage.available_providers', {}).catch(() => []),
  ]);
  const kind = h('fieldset', { class: 'tabs' }, h('legend', {}, 'What to migrate'),
    h('label', { class: 'tab' }, h('input', { type: 'radio', name: 'mkind', value: 'project', checked: true }), 'A project'),
    h('label', { class: 'tab' }, h('input', { type: 'radio', name: 'mkind', value: 'storage' }), 'The whole storage'));
  const project = h('select', { id: 'mig-project' }, projects.map((p) => h('option', { value: p.id }, `${p.name} (${p.itemsCount ?? 0} ${p.type})`)));
  const targets = providers.flatMap((/** @type {any} */ p) => p.buckets.map((/** @type {string} */ b) => `${String(p.defaultProtocol).replace(/:$/, '')}://${b}/`));
  const to = h('input', { id: 'mig-to', list: 'mig-targets', placeholder: 's3://my-bucket/migrated', autocomplete: 'off' });
  const keepTree = h('input', { type: 'checkbox', id: 'mig-keep-tree' });
  const conn = h('select', { id: 'mig-connection' }, conns.filter((/** @type {any} */ c) => c.active).map((/** @type {any} */ c) => h('option', { value: c.name }, `${c.name} (${c.provider})`)));
  const prefix = h('input', { id: 'mig-prefix', placeholder: 'default: the same prefix' });
  const msg = h('div', { 'data-role': 'form-message' });
  const dry = h('button', { type: 'submit', 'data-action': 'dry-run' }, 'Dry run');
  fill(form, kind,
    h('div', { class: 'grid', 'data-kind': 'project' },
      h('div', { class: 'field' }, h('label', { for: 'mig-project' }, 'Project'), project),
      h('div', { class: 'field' }, h('label', { for: 'mig-to' }, 'Target folder'), to, h('datalist', { id: 'mig-targets' }, targets.map((t) => h('option', { value: t }))),
        h('small', { class: 'hint' }, 'A bucket a connection allows, and a folder in it: <scheme>://<bucket>/<folder>.')),
      h('label', { class: 'check' }, keepTree, ' Keep the dataset tree in the folder names')),
    h('div', { class: 'grid', 'data-kind': 'storage', hidden: true },
      h('div', { class: 'field' }, h('label', { for: 'mig-connection' }, 'Target connection'), conn),
      h('div', { class: 'field' }, h('label', { for: 'mig-prefix' }, 'Bucket prefix at the target'), prefix)),
    msg, h('div', { class: 'buttons' }, dry));
  const kindOf = () => /** @type {HTMLInputElement} */ (form.querySelector('[name=mkind]:checked')).value;
  form.addEventListener('change', () => {
    for (const el of form.querySelectorAll('[data-kind]')) /** @type {HTMLElement} */ (el).hidden = el.getAttribute('data-kind') !== kindOf();
    fill(plan);
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = kindOf() === 'project'
      ? { projectId: Number(project.value), to: to.value.trim(), keepTree: keepTree.checked }
      : { kind: 'storage', to: conn.value, ...(prefix.value.trim() ? { bucketPrefix: prefix.value.trim() } : {}) };
    void busy(dry, () => runPlan(body, form, msg, plan, watch));
  });
}

/** @param {Record<string, any>} body @param {HTMLElement} form @param {HTMLElement} msg @param {HTMLElement} plan @param {(id: number) => void} watch */
async function runPlan(body, form, msg, plan, watch) {
  fill(msg);
  fill(plan);
  if (body['kind'] !== 'storage' && !body['projectId']) return void fill(msg, notice('error', 'Choose a project.'));
  if (body['to'] === '') return void fill(msg, notice('error', body['kind'] === 'storage' ? 'Choose a target connection.' : 'Enter a target folder such as s3://my-bucket/migrated.'));
  fill(plan, notice('info', 'Dry run: counting what would be migrated…'));
  let report;
  try {
    report = await call('migrations.plan', body);
  } catch (err) {
    fill(plan);
    return void fill(msg, notice('error', `Dry run failed: ${err instanceof Error ? err.message : err}`));
  }
  const start = h('button', { type: 'button', 'data-action': 'start' }, 'Start migration');
  start.addEventListener('click', () => void busy(start, async () => {
    try {
      const job = await call('migrations.start', body);
      fill(plan, notice('ok', job.alreadyRunning ? `Migration ${job.id} is already running.` : `Migration ${job.id} ${job.resumed ? 'resumed' : 'started'}.`));
      watch(job.id);
    } catch (err) {
      fill(msg, notice('error', `Not started: ${err instanceof Error ? err.message : err}`));
    }
  }));
  fill(plan, showPlan(report), start);
  void form;
}

/** @param {HTMLElement} runs @param {(id: number) => void} watch */
async function loadRuns(runs, watch) {
  let jobs;
  try {
    jobs = await call('migrations.list', { limit: 50 });
  } catch (err) {
    return void fill(runs, notice('error', `Runs cannot be listed: ${err instanceof Error ? err.message : err}`));
  }
  if (jobs.length === 0) return void fill(runs, notice('info', 'No migrations yet.'));
  fill(runs, h('div', { class: 'table-wrap' }, h('table', { class: 'runs' },
    h('caption', {}, 'Migration runs, newest first'),
    h('thead', {}, h('tr', {}, ['Id', 'Kind', 'Target', 'Status', 'Moved', 'Outcome', ''].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, jobs.map((/** @type {any} */ j) => h('tr', { 'data-job': j.id },
      h('td', {}, String(j.id)), h('td', {}, j.kind ?? 'project'), h('td', {}, j.target ?? j.to ?? ''), h('td', { 'data-role': 'status' }, j.status),
      h('td', {}, formatBytes(j.progress?.bytes ?? j.progress?.copiedBytes ?? 0)), h('td', {}, j.message ?? ''),
      h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: () => watch(j.id) }, j.status === 'running' ? 'Watch' : 'Details'))))))));
}
