// @ts-check
/**
 * Cloud browser: pick a connection's bucket, walk its folders a page at a
 * time (`remote-storage.list`, paged with `startAfter`), preview images, and
 * link the selected files (or every file below a selected folder) into a
 * dataset (`images.bulk.add` / `videos.bulk.add` with `link`).
 */
import { ApiError, call, get } from './api.js';
import { busy, fill, formatBytes, h, notice } from './dom.js';
import { datasetTree, IMAGE_EXT, listAll, previewUrl, remotePathOf, VIDEO_EXT } from './catalog.js';

const PAGE = 50;
const BATCH = 50;

/** @param {HTMLElement} root */
export function render(root) {
  const state = { base: '', prefix: '', pages: /** @type {string[]} */ ([]), startAfter: '', selected: new Map(), seq: 0 };
  const bucketSelect = h('select', { id: 'browser-bucket' });
  const listing = h('div', { 'data-role': 'listing' });
  const preview = h('aside', { class: 'preview', 'data-role': 'preview', 'aria-live': 'polite' });
  const linker = h('div', { 'data-role': 'linker' });
  const status = h('div', { 'data-role': 'browser-status' });
  const open = (/** @type {string} */ prefix) => { state.prefix = prefix; state.pages = []; state.startAfter = ''; void show(); };
  const show = () => showPage(state, listing, preview, status, open, show);
  bucketSelect.addEventListener('change', () => { state.base = bucketSelect.value; state.selected.clear(); open(''); });
  fill(root,
    h('h2', {}, 'Cloud browser'),
    h('div', { class: 'field' }, h('label', { for: 'browser-bucket' }, 'Connection and bucket'), bucketSelect),
    status, h('div', { class: 'browser' }, listing, preview), linker);
  void loadBuckets(bucketSelect, status).then(() => { if (bucketSelect.value) { state.base = bucketSelect.value; open(''); } });
  renderLinker(linker, state);
}

/** @param {HTMLSelectElement} select @param {HTMLElement} status */
async function loadBuckets(select, status) {
  try {
    const providers = await get('remote-storage.available_providers', {});
    const options = providers.flatMap((/** @type {any} */ p) => p.buckets.map((/** @type {string} */ b) => {
      const scheme = String(p.defaultProtocol).replace(/:$/, '');
      return h('option', { value: `${scheme}://${b}/` }, `${p.name}: ${b}`);
    }));
    if (options.length === 0) fill(status, notice('info', 'No connection serves a bucket yet: add one in Remote storage settings.'));
    fill(select, options);
  } catch (err) {
    fill(status, notice('error', `Buckets cannot be listed: ${err instanceof Error ? err.message : err}`));
  }
}

/**
 * Lists one page of the current folder.
 * @param {any} state @param {HTMLElement} listing @param {HTMLElement} preview @param {HTMLElement} status
 * @param {(prefix: string) => void} open @param {() => void} again
 */
async function showPage(state, listing, preview, status, open, again) {
  fill(status);
  const path = `${state.base}${state.prefix}`;
  // Only the newest listing is shown: a slow answer for a folder left meanwhile is dropped.
  const seq = ++state.seq;
  let items;
  try {
    items = await get('remote-storage.list', { path, recursive: 'False', limit: String(PAGE), startAfter: state.startAfter });
  } catch (err) {
    if (seq === state.seq) fill(listing, notice('error', `${path} cannot be listed: ${err instanceof Error ? err.message : err}`));
    return;
  }
  if (seq !== state.seq) return;
  const crumbs = state.prefix.split('/').filter((/** @type {string} */ s) => s !== '');
  const nav = h('nav', { class: 'crumbs', 'aria-label': 'Folder' },
    h('button', { type: 'button', class: 'link', onclick: () => open('') }, state.base),
    crumbs.map((/** @type {string} */ c, /** @type {number} */ i) => [' / ', h('button', { type: 'button', class: 'link', onclick: () => open(`${crumbs.slice(0, i + 1).join('/')}/`) }, c)]));
  const rows = items.map((/** @type {any} */ it) => itemRow(it, state, preview, open));
  const last = items.at(-1);
  const pager = h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'secondary', 'data-action': 'prev-page', disabled: state.pages.length === 0, onclick: () => { state.startAfter = state.pages.pop() ?? ''; again(); } }, 'Previous page'),
    h('button', { type: 'button', class: 'secondary', 'data-action': 'next-page', disabled: items.length < PAGE, onclick: () => { state.pages.push(state.startAfter); state.startAfter = last ? `${last.prefix ? `${last.prefix}/` : ''}${last.name}` : ''; again(); } }, 'Next page'));
  fill(listing, nav, items.length === 0 ? notice('info', 'This folder is empty.') : h('div', { class: 'table-wrap' }, h('table', { class: 'files' },
    h('caption', {}, path),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Select')), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Size'), h('th', { scope: 'col' }, 'Preview'))),
    h('tbody', {}, rows))), pager);
}

/** @param {any} it @param {any} state @param {HTMLElement} preview @param {(prefix: string) => void} open */
function itemRow(it, state, preview, open) {
  const key = `${it.prefix ? `${it.prefix}/` : ''}${it.name}`;
  const link = it.type === 'file' ? it.path : `${state.base}${key}`;
  const box = h('input', { type: 'checkbox', 'aria-label': `Select ${it.name}`, checked: state.selected.has(link) });
  box.addEventListener('change', () => { if (box.checked) state.selected.set(link, { type: it.type, name: it.name }); else state.selected.delete(link); state.onSelect?.(); });
  const name = it.type === 'folder'
    ? h('button', { type: 'button', class: 'link', 'data-folder': it.name, onclick: () => open(`${key}/`) }, `📁 ${it.name}/`)
    : h('span', { 'data-file': it.name }, it.name);
  const canPreview = it.type === 'file' && IMAGE_EXT.test(it.name);
  return h('tr', {}, h('td', {}, box), h('td', {}, name), h('td', {}, it.type === 'file' ? formatBytes(it.size) : ''),
    h('td', {}, canPreview ? h('button', { type: 'button', class: 'secondary', 'data-action': 'preview', onclick: () => void showPreview(preview, link, it) }, 'Preview') : ''));
}

/** @param {HTMLElement} preview @param {string} link @param {any} it */
async function showPreview(preview, link, it) {
  const path = remotePathOf(link);
  if (path === null) return;
  try {
    const img = h('img', { alt: `Preview of ${it.name}`, src: await previewUrl(path, 480), 'data-role': 'preview-image' });
    img.addEventListener('error', () => fill(preview, notice('error', `${it.name} cannot be previewed (not an image the server can read, or the provider refused it).`)));
    fill(preview, h('h3', {}, it.name), img, h('p', {}, `${formatBytes(it.size)} · ${link}`));
  } catch (err) {
    fill(preview, notice('error', `No preview: ${err instanceof Error ? err.message : err}`));
  }
}

/** The "link into a dataset" panel. @param {HTMLElement} box @param {any} state */
function renderLinker(box, state) {
  const project = h('select', { id: 'link-project' });
  const dataset = h('select', { id: 'link-dataset' });
  const count = h('p', { 'data-role': 'selected-count' }, 'Nothing selected.');
  const result = h('div', { 'data-role': 'link-result', 'aria-live': 'polite' });
  const go = h('button', { type: 'button', 'data-action': 'link' }, 'Link selected into the dataset');
  state.onSelect = () => { count.textContent = state.selected.size === 0 ? 'Nothing selected.' : `${state.selected.size} selected.`; };
  project.addEventListener('change', () => void loadDatasets(project, dataset));
  go.addEventListener('click', () => void busy(go, () => linkSelected(state, project, dataset, result)));
  fill(box, h('section', { class: 'card', 'aria-labelledby': 'link-title' }, h('h3', { id: 'link-title' }, 'Link into a dataset'),
    h('p', {}, 'Files stay in the bucket; the dataset gets items pointing at them. A selected folder links every file below it.'),
    h('div', { class: 'grid' },
      h('div', { class: 'field' }, h('label', { for: 'link-project' }, 'Project'), project),
      h('div', { class: 'field' }, h('label', { for: 'link-dataset' }, 'Dataset'), dataset)),
    count, go, result));
  void listAll('projects.list', {}).then((ps) => {
    fill(project, ps.map((p) => h('option', { value: p.id, 'data-type': p.type }, `${p.name} (${p.type})`)));
    return loadDatasets(project, dataset);
  }).catch((err) => fill(result, notice('error', `Projects cannot be listed: ${err.message}`)));
}

/** @param {HTMLSelectElement} project @param {HTMLSelectElement} dataset */
async function loadDatasets(project, dataset) {
  if (!project.value) return void fill(dataset);
  const tree = await datasetTree(Number(project.value));
  fill(dataset, tree.map((d) => h('option', { value: d.id }, `${'  '.repeat(d.depth)}${d.path}`)));
}

/**
 * Every file link below a folder, page by page.
 * @param {string} folder link ending in `/` @param {RegExp} ext
 */
async function filesBelow(folder, ext) {
  const out = [];
  for (let startAfter = ''; ;) {
    const page = await get('remote-storage.list', { path: folder, recursive: 'True', folders: 'False', limit: '1000', startAfter });
    for (const it of page) if (it.type === 'file' && ext.test(it.name)) out.push({ link: it.path, name: it.name });
    const last = page.at(-1);
    if (last === undefined || page.length < 1000) return out;
    startAfter = last.path;
  }
}

/** @param {any} state @param {HTMLSelectElement} project @param {HTMLSelectElement} dataset @param {HTMLElement} result */
async function linkSelected(state, project, dataset, result) {
  if (!dataset.value) return void fill(result, notice('error', 'Choose a project and a dataset first.'));
  if (state.selected.size === 0) return void fill(result, notice('error', 'Select files or folders first.'));
  const videos = project.selectedOptions[0]?.dataset['type'] === 'videos';
  const ext = videos ? VIDEO_EXT : IMAGE_EXT;
  /** @type {Array<{link: string, name: string}>} */
  const files = [];
  for (const [link, it] of state.selected) {
    if (it.type === 'folder') files.push(...await filesBelow(`${link}/`, ext));
    else files.push({ link, name: it.name });
  }
  const key = videos ? 'videos' : 'images';
  let linked = 0;
  const errors = [];
  for (let i = 0; i < files.length; i += BATCH) {
    const batch = files.slice(i, i + BATCH);
    try {
      const rows = await call(`${key}.bulk.add`, { datasetId: Number(dataset.value), forceMetadataForLinks: true, [key]: batch.map((f) => ({ title: f.name, link: f.link, meta: {} })) });
      linked += rows.length;
    } catch (err) {
      errors.push(err instanceof ApiError && err.details['type'] === 'NONUNIQUE' ? `${batch.length} file(s) not linked: a name is already used in this dataset (${err.message})` : `${batch.length} file(s) not linked: ${err instanceof Error ? err.message : err}`);
    }
  }
  fill(result, notice(errors.length === 0 ? 'ok' : 'error', `Linked ${linked} of ${files.length} file(s) into the dataset.`),
    errors.length > 0 ? h('ul', {}, errors.map((e) => h('li', {}, e))) : null,
    linked > 0 ? h('a', { href: `#/datasets?project=${project.value}&dataset=${dataset.value}` }, 'Open the dataset') : null);
}
