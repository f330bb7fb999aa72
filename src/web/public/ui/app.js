// @ts-check
/**
 * The page's shell: sign-in, who is signed in (admin or not), and hash
 * routing between sections. Admin-only sections are hidden from other keys;
 * the server refuses their methods anyway (403), the hiding is only so nobody
 * is shown a page that cannot work.
 */
import { ApiError, call, currentKey, setKey } from './api.js';
import { fieldError, fill, h, notice } from './dom.js';

/** @typedef {{ admin: boolean }} Session */
/** @typedef {(root: HTMLElement, session: Session, params: URLSearchParams) => (void | (() => void))} SectionView */

/** @type {Record<string, { admin: boolean, load: () => Promise<{ render: SectionView }> }>} */
const SECTIONS = {
  datasets: { admin: false, load: () => import('./datasets.js') },
  browser: { admin: false, load: () => import('./browser.js') },
  connections: { admin: true, load: () => import('./connections.js') },
  migrations: { admin: true, load: () => import('./migrations.js') },
  cache: { admin: true, load: () => import('./cache.js') },
};

/** @type {Session | null} */
let session = null;
/** @type {(() => void) | null} */
let leave = null;

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Checks a key and learns whether it is an admin's: `instance.version` proves
 * the key works, an admin-only listing answers 403 for other keys.
 * @param {string} key
 * @returns {Promise<Session>}
 */
async function probe(key) {
  await call('projects.list', { per_page: 1 }, { key });
  try {
    await call('remote-storage.connections.list', {}, { key });
    return { admin: true };
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return { admin: false };
    throw err;
  }
}

function showSignedIn() {
  const s = /** @type {Session} */ (session);
  byId('sign-in').hidden = true;
  byId('view').hidden = false;
  byId('nav').hidden = false;
  byId('who').hidden = false;
  byId('who-role').textContent = s.admin ? 'Admin key' : 'User key';
  for (const a of document.querySelectorAll('#nav a[data-admin]')) /** @type {HTMLElement} */ (a).hidden = !s.admin;
}

function showSignIn(/** @type {string} */ message = '') {
  session = null;
  leave?.();
  leave = null;
  byId('sign-in').hidden = false;
  byId('view').hidden = true;
  byId('nav').hidden = true;
  byId('who').hidden = true;
  fill(byId('view'));
  fieldError(byId('api-key'), message);
  byId('api-key').focus();
}

/** Renders the section named by the hash (`#/connections?x=1`). */
async function route() {
  if (session === null) return;
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const name = SECTIONS[path] !== undefined ? path : 'datasets';
  const section = /** @type {typeof SECTIONS[string]} */ (SECTIONS[name]);
  for (const a of document.querySelectorAll('#nav a')) {
    if (/** @type {HTMLElement} */ (a).dataset['section'] === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  leave?.();
  leave = null;
  const view = byId('view');
  if (section.admin && !session.admin) {
    fill(view, notice('error', 'This section needs an admin key.'));
    return;
  }
  const mod = await section.load();
  fill(view);
  view.dataset['section'] = name;
  leave = mod.render(view, session, new URLSearchParams(query)) ?? null;
}

async function signIn(/** @type {SubmitEvent} */ ev) {
  ev.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId('api-key'));
  const key = input.value.trim();
  if (key === '') return fieldError(input, 'Enter an API key.');
  try {
    session = await probe(key);
  } catch (err) {
    return fieldError(input, err instanceof ApiError && err.status === 401 ? 'This API key is not accepted: check it and try again.' : String(err instanceof Error ? err.message : err));
  }
  setKey(key);
  input.value = '';
  fieldError(input, '');
  showSignedIn();
  await route();
}

async function start() {
  byId('sign-in-form').addEventListener('submit', (ev) => void signIn(/** @type {SubmitEvent} */ (ev)));
  byId('sign-out').addEventListener('click', () => { setKey(null); showSignIn(); });
  window.addEventListener('hashchange', () => void route());
  // Any call answered 401 (key revoked meanwhile) sends the operator back to sign-in.
  window.addEventListener('unhandledrejection', (ev) => {
    if (ev.reason instanceof ApiError && ev.reason.status === 401) { setKey(null); showSignIn(ev.reason.message); }
  });
  const key = currentKey();
  if (key === null) return showSignIn();
  try {
    session = await probe(key);
  } catch (err) {
    setKey(null);
    return showSignIn(err instanceof Error ? err.message : String(err));
  }
  showSignedIn();
  await route();
}

void start().catch((err) => fill(byId('view'), h('p', { class: 'notice notice-error' }, String(err))));
