// @ts-check
/** The dry-run report of a migration, as a definition list. */
import { formatBytes, h } from './dom.js';

/** @param {any} r the reply of `migrations.plan` */
export function showPlan(r) {
  /** @type {Array<[string, string]>} */
  const rows = r.kind === 'storage'
    ? [
      ['Target', `${r.to}: ${r.buckets.map((/** @type {any} */ b) => `${b.from} → ${b.to}`).join(', ')}`],
      ['Objects in the source', `${r.objects} (${formatBytes(r.bytes)})`],
      ['Already at the target', `${r.present} (${formatBytes(r.presentBytes)})`],
      ['Would be copied', `${r.copied} (${formatBytes(r.copiedBytes)})`],
      ['Conflicts (same key, other content: overwritten)', String(r.conflicts)],
      ['Failures while checking', String(r.failed)],
    ]
    : [
      ['Target', `${r.target} (connection ${r.connection})`],
      ['Items in the project', `${r.items} ${r.itemType}s`],
      ['Already linked (left as they are)', String(r.alreadyLinked)],
      ['To migrate', `${r.toMigrate} (${formatBytes(r.bytes)})`],
      ['Already at the target (not sent again)', `${r.alreadyAtTarget} of ${r.lookedUp} looked up (${formatBytes(r.alreadyAtTargetBytes)})`],
      ['Without stored bytes (would fail)', String(r.missingBytes)],
    ];
  return h('section', { class: 'card', 'data-role': 'plan-report', 'aria-labelledby': 'plan-title' },
    h('h3', { id: 'plan-title' }, 'Dry run: nothing has been written'),
    h('dl', { class: 'report' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    r.targetProblem ? h('p', { class: 'notice notice-error', role: 'alert' }, `The target refused a lookup: ${r.targetProblem}`) : null);
}
