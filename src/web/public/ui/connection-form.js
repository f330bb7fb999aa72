// @ts-check
/**
 * The add/edit form of a remote connection, one layout per provider (S3 with
 * access keys, an IAM role or IAM Roles Anywhere; Azure; Google; File
 * system). It builds the settings exactly as `remote_links.yml` spells them
 * and checks what it can before anything is sent: required fields, bucket
 * names, a Google key file that is not a service-account JSON. Secrets are
 * write-only: when editing, an empty secret field keeps the stored one.
 */
import { field, fieldError, h } from './dom.js';

/** Provider choices, in the seed's words. */
export const PROVIDERS = [
  { id: 'minio', label: 'Amazon S3 / MinIO / S3-compatible' },
  { id: 'azure', label: 'Azure Blob Storage' },
  { id: 'google', label: 'Google Cloud Storage' },
  { id: 'fs', label: 'File system (a folder of this server)' },
];
const S3_AUTH = [
  { id: 'keys', label: 'Access keys' },
  { id: 'iam_role', label: 'IAM role' },
  { id: 'rolesanywhere', label: 'IAM Anywhere' },
];
const RA_FIELDS = ['certificate', 'private_key', 'trust_anchor_arn', 'profile_arn', 'role_arn', 'region'];

/** @param {string} f settings path such as `rolesanywhere.private_key` */
export const inputId = (f) => `conn-${f.replace(/\./g, '-')}`;

/** @param {string} f @param {string} [type] @param {Record<string, any>} [extra] */
function input(f, type = 'text', extra = {}) {
  return h('input', { type, name: f, 'data-field': f, autocomplete: 'off', spellcheck: false, ...extra });
}
/** @param {string} f @param {number} rows */
function area(f, rows) {
  return h('textarea', { name: f, 'data-field': f, rows, spellcheck: false, autocomplete: 'off' });
}

/**
 * A PEM field with a file picker that reads the file into it (never uploads it by itself).
 * @param {string} f @param {string} label @param {string} hint
 */
function pemField(f, label, hint) {
  const text = area(f, 4);
  const picker = h('input', { type: 'file', accept: '.pem,.crt,.key,.cer,text/plain', 'aria-label': `Read the ${label.toLowerCase()} from a file` });
  picker.addEventListener('change', async () => {
    const file = picker.files?.[0];
    if (file) text.value = await file.text();
  });
  const wrap = field(inputId(f), label, text, hint);
  wrap.append(picker);
  return wrap;
}

/**
 * Reads a Google service-account key file in the browser and checks its fields.
 * @param {string} text
 * @returns {{ ok: true, email: string, project: string } | { ok: false, message: string }}
 */
export function parseServiceAccount(text) {
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: 'This file is not valid JSON: choose the service-account key file downloaded from Google Cloud (IAM → Service accounts → Keys).' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, message: 'This JSON is not a service-account key (expected an object).' };
  if (json.type !== 'service_account') return { ok: false, message: `This JSON is not a service-account key: "type" is ${JSON.stringify(json.type ?? null)}, expected "service_account".` };
  for (const k of ['client_email', 'private_key']) {
    if (typeof json[k] !== 'string' || json[k] === '') return { ok: false, message: `This service-account key has no "${k}".` };
  }
  if (!String(json.private_key).includes('PRIVATE KEY')) return { ok: false, message: 'The "private_key" of this file is not a PEM private key.' };
  return { ok: true, email: json.client_email, project: typeof json.project_id === 'string' ? json.project_id : '' };
}

/**
 * The text of a valid key file chosen in a Google form's picker, sent as
 * `credentials_json` on save. Kept here, not in the page, so the private key
 * never sits in an attribute.
 * @type {WeakMap<HTMLInputElement, string>}
 */
export const chosenKeys = new WeakMap();

function googleKeyField() {
  const picker = h('input', { type: 'file', accept: 'application/json,.json', 'data-role': 'gcs-key' });
  const status = h('p', { class: 'hint', 'data-role': 'gcs-key-status' });
  picker.addEventListener('change', async () => {
    const file = picker.files?.[0];
    status.textContent = '';
    fieldError(picker, '');
    picker.dataset['invalid'] = 'false';
    chosenKeys.delete(picker);
    if (!file) return;
    const text = await file.text();
    const r = parseServiceAccount(text);
    picker.dataset['invalid'] = String(!r.ok);
    picker.dataset['problem'] = r.ok ? '' : r.message;
    if (!r.ok) fieldError(picker, r.message);
    else {
      chosenKeys.set(picker, text);
      status.textContent = `Service account ${r.email}${r.project ? ` (project ${r.project})` : ''}: valid. It is sent to Stowage on save and never shown again.`;
    }
  });
  const wrap = field('conn-gcs-key', 'Service-account key file (upload)', picker,
    'The JSON key downloaded from Google Cloud (IAM → Service accounts → Keys); stored as the connection\'s credentials_json. Or leave it and give a key file on the server above.');
  wrap.append(status);
  return wrap;
}

/** Builds the form's fields (all providers; the inactive ones hidden). */
export function connectionFields() {
  const provider = h('select', { name: 'provider', 'data-field': 'provider' }, PROVIDERS.map((p) => h('option', { value: p.id }, p.label)));
  const auth = h('fieldset', { class: 'tabs', 'data-show': 'minio' },
    h('legend', {}, 'Credentials'),
    S3_AUTH.map((a, i) => h('label', { class: 'tab' }, h('input', { type: 'radio', name: 's3auth', value: a.id, checked: i === 0 }), a.label)));
  return h('div', { class: 'grid' },
    field(inputId('name'), 'Name', input('name', 'text', { required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,62}' }), 'Letters, digits, ".", "_" or "-".'),
    field(inputId('provider'), 'Provider', provider),
    h('div', { 'data-show': 'minio azure google' }, field(inputId('endpoint'), 'Endpoint', input('endpoint'), 'S3: https://s3.amazonaws.com or http://minio:9000 · Azure: https://<account>.blob.core.windows.net · Google: empty')),
    auth,
    h('div', { 'data-show': 'minio' }, field(inputId('region'), 'Region', input('region', 'text', { placeholder: 'us-east-1' }))),
    h('div', { 'data-show': 'minio:keys azure' }, field(inputId('access_key'), 'Access key (Azure: account name)', input('access_key'))),
    h('div', { 'data-show': 'minio:keys azure' }, field(inputId('secret_key'), 'Secret key (Azure: account key or SAS token)', input('secret_key', 'password'))),
    h('div', { 'data-show': 'minio:iam_role' }, field(inputId('iam_role'), 'IAM role name', input('iam_role'), 'Credentials from the instance metadata service (IMDSv2).')),
    h('div', { 'data-show': 'minio:rolesanywhere', class: 'span' },
      pemField('rolesanywhere.certificate', 'Certificate (PEM)', 'The client certificate (intermediates may follow).'),
      pemField('rolesanywhere.private_key', 'Signing private key (PEM)', 'Write-only: never shown again once saved.'),
      field(inputId('rolesanywhere.trust_anchor_arn'), 'Trust anchor ARN', input('rolesanywhere.trust_anchor_arn', 'text', { placeholder: 'arn:aws:rolesanywhere:<region>:<account>:trust-anchor/<id>' })),
      field(inputId('rolesanywhere.profile_arn'), 'Profile ARN', input('rolesanywhere.profile_arn', 'text', { placeholder: 'arn:aws:rolesanywhere:<region>:<account>:profile/<id>' })),
      field(inputId('rolesanywhere.role_arn'), 'Role ARN', input('rolesanywhere.role_arn', 'text', { placeholder: 'arn:aws:iam::<account>:role/<name>' })),
      field(inputId('rolesanywhere.region'), 'Roles Anywhere region', input('rolesanywhere.region', 'text', { placeholder: 'default: the trust anchor\'s' }))),
    h('div', { 'data-show': 'google', class: 'span' },
      field(inputId('credentials_path'), 'Service-account key file on the server', input('credentials_path', 'text', { placeholder: '/etc/stowage/gcs-key.json' })),
      googleKeyField()),
    h('div', { 'data-show': 'fs' }, field(inputId('path'), 'Folder on this server', input('path', 'text', { placeholder: '/mnt/data' }))),
    h('div', { 'data-show': 'fs' }, field(inputId('storage_id'), 'Storage ID', input('storage_id'), 'Links look like fs://<storage id>/<file>.')),
    h('div', { 'data-show': 'fs' }, h('label', { class: 'check' }, input('writable', 'checkbox'), ' Writable (uploads and migrations may write here)')),
    h('div', { 'data-show': 'minio azure google', class: 'span' },
      field(inputId('buckets'), 'Allowed buckets', area('buckets', 2), 'One per line (or separated by commas). Links and the browser reach only these.')));
}

/** @param {HTMLElement} form */
export function providerOf(form) {
  return /** @type {HTMLSelectElement} */ (form.querySelector('[name=provider]')).value;
}
/** @param {HTMLElement} form */
export function s3AuthOf(form) {
  return /** @type {HTMLInputElement | null} */ (form.querySelector('[name=s3auth]:checked'))?.value ?? 'keys';
}

/** Shows the fields of the chosen provider (and S3 credential kind) only. @param {HTMLElement} form */
export function applyVisibility(form) {
  const p = providerOf(form);
  const a = s3AuthOf(form);
  for (const el of form.querySelectorAll('[data-show]')) {
    const shows = String(el.getAttribute('data-show')).split(' ').some((s) => s === p || s === `${p}:${a}`);
    /** @type {HTMLElement} */ (el).hidden = !shows;
  }
}

/** @param {HTMLElement} form @param {string} f */
export const valueOf = (form, f) => /** @type {HTMLInputElement} */ (form.querySelector(`[data-field="${f}"]`)).value.trim();

/** @param {string} text */
export function bucketList(text) {
  return text.split(/[\s,]+/).map((b) => b.trim()).filter((b) => b !== '');
}

/** Fields of the S3 credential kinds, to unset the others when switching. */
export const S3_KIND_FIELDS = { keys: ['access_key', 'secret_key'], iam_role: ['iam_role'], rolesanywhere: ['rolesanywhere'] };
export { RA_FIELDS };
