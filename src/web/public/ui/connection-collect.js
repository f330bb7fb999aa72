// @ts-check
/**
 * Reads the connection form into settings as `remote_links.yml` spells them,
 * checking in the browser what can be checked there. Returns null (with a
 * message next to each bad field) when something is missing or malformed, so
 * nothing is sent. Editing sends a patch: an empty secret keeps the stored
 * one, and switching the kind of S3 credentials unsets the other kind's fields.
 */
import { fieldError } from './dom.js';
import { bucketList, chosenKeys, providerOf, RA_FIELDS, S3_KIND_FIELDS, s3AuthOf, valueOf } from './connection-form.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const BUCKET = /^[^\s/\\\u0000-\u001f\u007f]+$/u;
const STORAGE_ID = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * @param {HTMLElement} form
 * @param {Record<string, any> | null} original the connection being edited, or null
 * @returns {{ settings: Record<string, unknown> } | null}
 */
export function collect(form, original) {
  for (const el of form.querySelectorAll('[aria-invalid]')) fieldError(/** @type {HTMLElement} */ (el), '');
  /** @type {Array<[string, string]>} */
  const problems = [];
  /** Reports `f` when empty (or always, with `always`). */
  const need = (/** @type {string} */ f, /** @type {string} */ why, always = false) => { if (always || valueOf(form, f) === '') problems.push([f, why]); };
  const provider = providerOf(form);
  if (!original && !NAME.test(valueOf(form, 'name'))) problems.push(['name', 'Enter a name: 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit.']);
  /** @type {Record<string, unknown>} */
  const settings = { provider };
  if (provider === 'fs') fsSettings(form, settings, need, problems);
  else cloudSettings(form, settings, need, problems, original);
  if (original && original.provider !== provider) unsetOthers(settings, original);
  checkGoogleKey(form, provider, problems);
  for (const [f, why] of problems) {
    const el = /** @type {HTMLElement | null} */ (form.querySelector(`[data-field="${f}"], [data-role="${f}"]`));
    if (el) fieldError(el, why);
  }
  if (problems.length > 0) {
    /** @type {HTMLElement | null} */ (form.querySelector('[aria-invalid=true]'))?.focus();
    return null;
  }
  return { settings };
}

/** Fields a connection may hold besides its name, provider and buckets. */
const CLEARABLE = ['endpoint', 'access_key', 'secret_key', 'iam_role', 'rolesanywhere', 'region', 'credentials_path', 'credentials_json', 'path', 'writable'];

/**
 * An update merges into what is stored: when the provider changes, what the
 * old one used and the new one does not is unset, or the server would refuse it.
 * @param {Record<string, unknown>} s @param {Record<string, any>} original
 */
function unsetOthers(s, original) {
  for (const f of CLEARABLE) if (original[f] != null && !(f in s)) s[f] = null;
}

/** @param {HTMLElement} form @param {Record<string, unknown>} s @param {(f: string, why: string, always?: boolean) => void} need @param {Array<[string, string]>} problems */
function fsSettings(form, s, need, problems) {
  need('path', 'Enter the folder on this server, e.g. /mnt/data.');
  const path = valueOf(form, 'path');
  if (path !== '' && !path.startsWith('/')) problems.push(['path', 'Enter an absolute folder path (starting with "/").']);
  const id = valueOf(form, 'storage_id');
  if (!STORAGE_ID.test(id)) problems.push(['storage_id', 'Enter a storage ID: 3-63 lowercase letters, digits, "-", "." or "_".']);
  s['path'] = path;
  s['buckets'] = [id];
  s['writable'] = /** @type {HTMLInputElement} */ (form.querySelector('[data-field=writable]')).checked;
}

/**
 * @param {HTMLElement} form @param {Record<string, unknown>} s @param {(f: string, why: string, always?: boolean) => void} need
 * @param {Array<[string, string]>} problems @param {Record<string, any> | null} original
 */
function cloudSettings(form, s, need, problems, original) {
  const provider = /** @type {string} */ (s['provider']);
  const buckets = bucketList(valueOf(form, 'buckets'));
  if (buckets.length === 0) problems.push(['buckets', 'Enter at least one bucket this connection may reach.']);
  const bad = buckets.find((b) => !BUCKET.test(b));
  if (bad !== undefined) problems.push(['buckets', `"${bad}" is not a bucket name.`]);
  s['buckets'] = buckets;
  const editing = original !== null && original.provider === provider;
  const opt = (/** @type {string} */ f) => { const v = valueOf(form, f); if (v !== '') s[f] = v; else if (editing && original?.[f] != null) s[f] = null; };
  opt('endpoint');
  if (provider === 'azure') {
    need('endpoint', 'Enter the account URL: https://<account>.blob.core.windows.net');
    secret(form, s, 'access_key', editing && original?.access_key, need, 'Enter the storage account name.');
    secret(form, s, 'secret_key', editing && original?.secret_key, need, 'Enter the account key or a SAS token (?sv=…).');
  } else if (provider === 'google') {
    googleCredentials(form, s, problems, editing ? original : null);
  } else {
    opt('region');
    s3Credentials(form, s, need, original, editing);
  }
}

/**
 * A write-only field: required when nothing is stored, kept when left empty while editing.
 * @param {HTMLElement} form @param {Record<string, unknown>} s @param {string} f @param {unknown} stored
 * @param {(f: string, why: string, always?: boolean) => void} need @param {string} why
 */
function secret(form, s, f, stored, need, why) {
  const v = valueOf(form, f);
  if (v !== '') s[f] = v;
  else if (!stored) need(f, why);
}

/** @param {HTMLElement} form @param {Record<string, unknown>} s @param {(f: string, why: string, always?: boolean) => void} need @param {Record<string, any> | null} original @param {boolean} editing */
function s3Credentials(form, s, need, original, editing) {
  const kind = s3AuthOf(form);
  const was = editing ? (original?.rolesanywhere ? 'rolesanywhere' : original?.iam_role ? 'iam_role' : 'keys') : kind;
  for (const [k, fields] of Object.entries(S3_KIND_FIELDS)) {
    if (k !== kind && editing) for (const f of fields) if (original?.[f] != null) s[f] = null;
  }
  if (kind === 'keys') {
    secret(form, s, 'access_key', was === 'keys' && original?.access_key, need, 'Enter the access key.');
    secret(form, s, 'secret_key', was === 'keys' && original?.secret_key, need, 'Enter the secret key.');
  } else if (kind === 'iam_role') {
    need('iam_role', 'Enter the IAM role name.');
    s['iam_role'] = valueOf(form, 'iam_role');
  } else {
    rolesAnywhere(form, s, need, was === 'rolesanywhere' ? original?.rolesanywhere : null);
  }
}

/**
 * The `rolesanywhere` map. It is replaced whole on update, and the stored
 * private key cannot be read back: unchanged fields send nothing, a change
 * needs the private key again.
 * @param {HTMLElement} form @param {Record<string, unknown>} s @param {(f: string, why: string, always?: boolean) => void} need @param {Record<string, any> | null} stored
 */
function rolesAnywhere(form, s, need, stored) {
  /** @type {Record<string, string>} */
  const ra = {};
  for (const f of RA_FIELDS) { const v = valueOf(form, `rolesanywhere.${f}`); if (v !== '') ra[f] = v; }
  const unchanged = stored && ra['private_key'] === undefined && RA_FIELDS.every((f) => f === 'private_key' || (ra[f] ?? null) === (stored[f] ?? null));
  if (unchanged) return;
  need('rolesanywhere.certificate', 'Paste the client certificate (PEM) or read it from a file.');
  need('rolesanywhere.private_key', stored ? 'Enter the private key again to change these settings: it is write-only.' : 'Paste the signing private key (PEM) or read it from a file.');
  need('rolesanywhere.trust_anchor_arn', 'Enter the trust anchor ARN.');
  need('rolesanywhere.profile_arn', 'Enter the profile ARN.');
  need('rolesanywhere.role_arn', 'Enter the role ARN.');
  for (const f of ['certificate', 'private_key']) {
    const v = ra[f];
    if (v !== undefined && v.includes('-----BEGIN') && !v.includes('-----END')) need(`rolesanywhere.${f}`, 'This PEM is cut short (no "-----END" line).', true);
  }
  s['rolesanywhere'] = ra;
}

/**
 * A key file on the server (`credentials_path`) or one uploaded here
 * (`credentials_json`), never both; while editing, an empty form keeps what is stored.
 * @param {HTMLElement} form @param {Record<string, unknown>} s @param {Array<[string, string]>} problems @param {Record<string, any> | null} stored
 */
function googleCredentials(form, s, problems, stored) {
  const path = valueOf(form, 'credentials_path');
  const picker = /** @type {HTMLInputElement} */ (form.querySelector('[data-role=gcs-key]'));
  const uploaded = chosenKeys.get(picker);
  if (path !== '' && !path.startsWith('/')) problems.push(['credentials_path', 'Enter the absolute path of the key file on the server.']);
  if (path !== '' && uploaded !== undefined) problems.push(['credentials_path', 'Give either a key file on the server or an uploaded key, not both.']);
  if (uploaded !== undefined) {
    s['credentials_json'] = uploaded;
    if (stored?.credentials_path != null) s['credentials_path'] = null;
  } else if (path !== '') {
    s['credentials_path'] = path;
    if (stored?.credentials_json != null) s['credentials_json'] = null;
  } else if (stored?.credentials_path != null && stored?.credentials_json == null) {
    s['credentials_path'] = null; // the operator emptied the path: application default credentials
  }
}

/** A Google key file chosen but malformed stops the save: it is checked in the browser. @param {HTMLElement} form @param {string} provider @param {Array<[string, string]>} problems */
function checkGoogleKey(form, provider, problems) {
  if (provider !== 'google') return;
  const picker = /** @type {HTMLInputElement} */ (form.querySelector('[data-role=gcs-key]'));
  if (picker.dataset['invalid'] === 'true') {
    problems.push(['gcs-key', picker.dataset['problem'] || 'This key file is not a valid service-account JSON: choose another file.']);
  }
}
