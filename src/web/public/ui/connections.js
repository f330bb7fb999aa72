// @ts-check
/**
 * Remote storage settings: the connections of remote_links.yml (read-only
 * here) and those managed through the API (add, edit, remove), each with a
 * "Test connection" button running the checks of `stowage storage check`
 * (`remote-storage.connections.test`). Saving tests the settings first: a
 * connection whose credentials are refused is not saved unless the operator
 * says "Save anyway".
 */
import { ApiError, call } from './api.js';
import { busy, fieldError, fill, h, notice } from './dom.js';
import { collect } from './connection-collect.js';
import { applyVisibility, chosenKeys, connectionFields, providerOf, RA_FIELDS, s3AuthOf, valueOf } from './connection-form.js';

/** @typedef {Record<string, any>} Conn */

/** @param {HTMLElement} root */
export function render(root) {
  const list = h('div', { 'data-role': 'connection-list' });
  const results = h('div', { 'data-role': 'test-results', 'aria-live': 'polite' });
  const editor = h('div', { 'data-role': 'editor' });
  const refresh = () => loadList(list, results, editor, refresh);
  fill(root,
    h('h2', {}, 'Remote storage settings'),
    h('p', {}, 'Connections let links (s3://, azure://, google://, fs://) and the cloud browser reach buckets. Those from remote_links.yml are read-only here: edit that file to change them.'),
    h('button', { type: 'button', 'data-action': 'add-connection', onclick: () => openEditor(editor, results, null, refresh) }, 'Add connection'),
    editor, list, results);
  void refresh();
}

/** @param {HTMLElement} list @param {HTMLElement} results @param {HTMLElement} editor @param {() => Promise<void>} refresh */
async function loadList(list, results, editor, refresh) {
  let conns;
  try {
    conns = /** @type {Conn[]} */ (await call('remote-storage.connections.list'));
  } catch (err) {
    fill(list, notice('error', `Connections cannot be listed: ${err instanceof Error ? err.message : err}`));
    return;
  }
  if (conns.length === 0) return void fill(list, notice('info', 'No connections yet.'));
  fill(list, h('div', { class: 'table-wrap' }, h('table', { class: 'connections' },
    h('caption', {}, 'Connections'),
    h('thead', {}, h('tr', {}, ['Name', 'Provider', 'Source', 'Buckets', 'Credentials', 'State', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, conns.map((c) => row(c, list, results, editor, refresh))))));
}

/** What the credentials are, without a secret: "access key ****abcd, secret set". @param {Conn} c */
function credentials(c) {
  if (c.rolesanywhere) return `IAM Roles Anywhere (${c.rolesanywhere.role_arn ?? 'role'}), private key ${c.rolesanywhere.private_key ? 'set' : 'not set'}`;
  if (c.iam_role) return `IAM role ${c.iam_role}`;
  if (c.provider === 'google') return c.credentials_json ? 'uploaded service-account key (set)' : c.credentials_path ? `key file ${c.credentials_path}` : 'application default credentials';
  if (c.provider === 'fs') return `folder ${c.path}${c.writable ? ' (writable)' : ' (read-only)'}`;
  return `access key ${c.access_key ?? 'not set'}, secret ${c.secret_key ? 'set' : 'not set'}`;
}

/** @param {Conn} c @param {HTMLElement} list @param {HTMLElement} results @param {HTMLElement} editor @param {() => Promise<void>} refresh */
function row(c, list, results, editor, refresh) {
  const editable = c.source === 'api';
  const test = h('button', { type: 'button', class: 'secondary', 'data-action': 'test' }, 'Test connection');
  test.addEventListener('click', () => void busy(test, () => runTest(results, { name: c.name })));
  const remove = editable ? h('button', { type: 'button', class: 'danger', 'data-action': 'remove' }, 'Remove') : null;
  remove?.addEventListener('click', () => void busy(remove, async () => {
    if (!confirm(`Remove connection ${c.name}? Links through it stop working until it is added again.`)) return;
    try {
      await call('remote-storage.connections.remove', { name: c.name });
      await refresh();
    } catch (err) {
      list.prepend(notice('error', `${c.name} was not removed: ${err instanceof Error ? err.message : err}`));
    }
  }));
  return h('tr', { 'data-connection': c.name },
    h('th', { scope: 'row' }, c.name),
    h('td', {}, c.provider ?? '—'),
    h('td', {}, editable ? 'API (editable)' : 'remote_links.yml (read-only)'),
    h('td', {}, (c.buckets ?? []).join(', ')),
    h('td', {}, credentials(c)),
    h('td', {}, c.active ? 'serving' : `not serving${c.problem ? `: ${c.problem}` : ''}`),
    h('td', { class: 'actions' }, test,
      editable ? h('button', { type: 'button', class: 'secondary', 'data-action': 'edit', onclick: () => openEditor(editor, results, c, refresh) }, 'Edit') : null,
      remove));
}

/**
 * Shows the results of the checks: one row per bucket, one column per operation.
 * @param {HTMLElement} box @param {Record<string, any>} body
 * @returns {Promise<any>}
 */
async function runTest(box, body) {
  fill(box, notice('info', 'Testing: writing, reading, listing and deleting a probe object in each bucket…'));
  try {
    const r = await call('remote-storage.connections.test', body);
    showResults(box, r);
    return r;
  } catch (err) {
    fill(box, notice('error', `The test could not run: ${err instanceof Error ? err.message : err}`));
    throw err;
  }
}

/** @param {HTMLElement} box @param {any} r */
function showResults(box, r) {
  const ops = /** @type {string[]} */ (r.operations);
  const failures = [];
  const rows = r.buckets.map((/** @type {any} */ b) => h('tr', { 'data-bucket': b.bucket },
    h('th', { scope: 'row' }, b.bucket),
    ops.map((op) => {
      const o = b.results[op];
      if (o.status === 'failed') failures.push(`${b.bucket} ${op}: ${o.message} (${o.kind})`);
      return h('td', { class: `result-${o.status}`, 'data-op': op }, o.status === 'ok' ? 'ok' : o.status === 'skipped' ? '–' : 'failed');
    })));
  fill(box,
    notice(r.ok ? 'ok' : 'error', r.ok ? `Every check passed${r.name ? ` for ${r.name}` : ''}.` : `Some checks failed${r.name ? ` for ${r.name}` : ''}.`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'test-results' },
      h('caption', {}, `Connection test${r.name ? `: ${r.name}` : ''}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Bucket'), ops.map((op) => h('th', { scope: 'col' }, op)))),
      h('tbody', {}, rows))),
    failures.length > 0 ? h('ul', { class: 'failures' }, failures.map((f) => h('li', {}, f))) : null);
}

/** @param {HTMLElement} editor @param {HTMLElement} results @param {Conn | null} original @param {() => Promise<void>} refresh */
function openEditor(editor, results, original, refresh) {
  const form = h('form', { class: 'card', noValidate: true, 'aria-label': original ? `Edit ${original.name}` : 'New connection' },
    h('h3', {}, original ? `Edit ${original.name}` : 'New connection'),
    connectionFields(),
    h('div', { class: 'form-message', 'data-role': 'form-message' }),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', 'data-action': 'save' }, 'Save'),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'test-form' }, 'Test connection'),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'cancel', onclick: () => fill(editor) }, 'Cancel')));
  fill(editor, form);
  form.addEventListener('change', () => applyVisibility(form));
  if (original) prefill(form, original);
  applyVisibility(form);
  const message = /** @type {HTMLElement} */ (form.querySelector('[data-role=form-message]'));
  const testButton = /** @type {HTMLButtonElement} */ (form.querySelector('[data-action=test-form]'));
  testButton.addEventListener('click', () => void busy(testButton, async () => {
    const built = collect(form, original);
    if (built === null) return;
    await runTest(results, { ...(original ? { name: original.name } : {}), settings: built.settings }).catch((err) => showApiError(form, message, err));
  }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(/** @type {HTMLButtonElement} */ (form.querySelector('[data-action=save]')), () => save(form, message, results, original, editor, refresh, false));
  });
  /** @type {HTMLElement} */ (form.querySelector('input, select')).focus();
}

/** @param {HTMLElement} form @param {Conn} c */
function prefill(form, c) {
  const set = (/** @type {string} */ f, /** @type {any} */ v) => {
    const el = /** @type {HTMLInputElement | null} */ (form.querySelector(`[data-field="${f}"]`));
    if (el && v !== null && v !== undefined) { if (el.type === 'checkbox') el.checked = v === true; else el.value = String(v); }
  };
  set('name', c.name);
  /** @type {HTMLInputElement} */ (form.querySelector('[data-field=name]')).readOnly = true;
  set('provider', c.provider);
  for (const f of ['endpoint', 'region', 'iam_role', 'credentials_path', 'path', 'writable']) set(f, c[f]);
  set('buckets', (c.buckets ?? []).join('\n'));
  set('storage_id', c.provider === 'fs' ? c.buckets?.[0] : null);
  const kind = c.rolesanywhere ? 'rolesanywhere' : c.iam_role ? 'iam_role' : 'keys';
  /** @type {HTMLInputElement} */ (form.querySelector(`[name=s3auth][value=${kind}]`)).checked = true;
  for (const f of RA_FIELDS) if (f !== 'private_key') set(`rolesanywhere.${f}`, c.rolesanywhere?.[f]);
  for (const [f, shown] of [['access_key', c.access_key], ['secret_key', c.secret_key], ['rolesanywhere.private_key', c.rolesanywhere?.private_key]]) {
    const el = /** @type {HTMLInputElement} */ (form.querySelector(`[data-field="${f}"]`));
    if (shown) el.placeholder = `set (${f === 'access_key' ? shown : 'hidden'}): leave empty to keep`;
  }
  form.dataset['original'] = JSON.stringify(c.rolesanywhere ?? null);
}

/**
 * Tests, then saves. Refused credentials stop the save (with the message next
 * to the credentials) unless `anyway`; nothing is changed then.
 * @param {HTMLElement} form @param {HTMLElement} message @param {HTMLElement} results @param {Conn | null} original
 * @param {HTMLElement} editor @param {() => Promise<void>} refresh @param {boolean} anyway
 */
async function save(form, message, results, original, editor, refresh, anyway) {
  fill(message);
  const built = collect(form, original);
  if (built === null) return;
  try {
    if (!anyway) {
      const r = await runTest(results, { ...(original ? { name: original.name } : {}), settings: built.settings });
      if (!r.ok) return refuseSave(form, message, r, () => save(form, message, results, original, editor, refresh, true));
    }
    const name = original ? original.name : valueOf(form, 'name');
    await call(original ? 'remote-storage.connections.update' : 'remote-storage.connections.add', { name, ...built.settings });
    fill(editor, notice('ok', `Connection ${name} saved.`));
    await refresh();
  } catch (err) {
    showApiError(form, message, err);
  }
}

/** @param {HTMLElement} form @param {HTMLElement} message @param {any} r @param {() => Promise<void>} again */
function refuseSave(form, message, r, again) {
  const kinds = r.buckets.flatMap((/** @type {any} */ b) => Object.values(b.results).filter((o) => o.status === 'failed').map((o) => o.kind));
  const refused = kinds.find((/** @type {string} */ k) => k === 'Unauthenticated' || k === 'PermissionDenied' || k === 'ConfigInvalid');
  if (refused) {
    const target = credentialField(form);
    if (target) fieldError(target, refused === 'PermissionDenied'
      ? 'These credentials are not allowed to use the buckets (permission denied): check the keys or the role\'s policy.'
      : 'The provider refused these credentials: check the keys (or certificate) and try again.');
  }
  const anyway = h('button', { type: 'button', class: 'danger', 'data-action': 'save-anyway' }, 'Save anyway');
  anyway.addEventListener('click', () => void busy(anyway, again));
  fill(message, notice('error', 'Not saved: the connection test failed (see the results below). Fix the settings, or save anyway if the provider is only unreachable for now.'), anyway);
}

/** The input that holds the credentials of the chosen provider. @param {HTMLElement} form */
function credentialField(form) {
  const p = providerOf(form);
  const picker = /** @type {HTMLInputElement | null} */ (form.querySelector('[data-role=gcs-key]'));
  if (p === 'google' && picker && chosenKeys.has(picker)) return picker;
  const f = p === 'google' ? 'credentials_path' : p === 'fs' ? 'path'
    : p === 'minio' && s3AuthOf(form) === 'rolesanywhere' ? 'rolesanywhere.certificate' : p === 'minio' && s3AuthOf(form) === 'iam_role' ? 'iam_role' : 'secret_key';
  return /** @type {HTMLElement | null} */ (form.querySelector(`[data-field="${f}"]`));
}

/**
 * Puts the server's message next to the field it names (every field of a
 * multi-issue 400), else at the top of the form.
 * @param {HTMLElement} form @param {HTMLElement} message @param {unknown} err
 */
function showApiError(form, message, err) {
  if (!(err instanceof ApiError)) return void fill(message, notice('error', String(err)));
  const issues = Array.isArray(err.details['issues']) && err.details['issues'].every((/** @type {any} */ i) => typeof i.field === 'string')
    ? /** @type {Array<{field: string, message: string}>} */ (err.details['issues']) : (err.field ? [{ field: err.field, message: err.message }] : []);
  let placed = 0;
  for (const issue of issues) {
    const f = issue.field.replace(/^buckets\.\d+$/, 'buckets');
    const name = f === 'buckets' && providerOf(form) === 'fs' ? 'storage_id' : f;
    const el = /** @type {HTMLElement | null} */ (form.querySelector(`[data-field="${name}"]`));
    if (el && !el.closest('[hidden]')) { fieldError(el, issue.message); placed += 1; }
  }
  fill(message, notice('error', placed > 0 ? `Not saved: ${placed === 1 ? 'a field needs' : 'some fields need'} fixing (see the message next to it).` : `Not saved: ${err.message}`));
}
