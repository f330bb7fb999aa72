// @ts-check
/**
 * Projects and datasets: the project list, the nested dataset tree, a grid of
 * the dataset's images or videos with thumbnails (signed preview URLs, asked
 * for only when a card scrolls into view), and an item's details with a
 * download.
 */
import { call, download } from './api.js';
import { busy, fill, formatBytes, h, notice } from './dom.js';
import { datasetTree, listAll, previewUrl, videoThumbUrl } from './catalog.js';

const PER_PAGE = 48;
const THUMB = 200;

/** @param {HTMLElement} root @param {unknown} _session @param {URLSearchParams} params */
export function render(root, _session, params) {
  const projects = h('div', { 'data-role': 'projects' });
  const tree = h('nav', { 'data-role': 'dataset-tree', 'aria-label': 'Datasets' });
  const grid = h('div', { 'data-role': 'grid' });
  const details = h('aside', { 'data-role': 'details', class: 'details', 'aria-live': 'polite' });
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) { observer.unobserve(e.target); void loadThumb(/** @type {HTMLImageElement} */ (e.target)); }
  }, { rootMargin: '200px' });
  const ctx = { projects, tree, grid, details, observer, projectId: Number(params.get('project') ?? 0), datasetId: Number(params.get('dataset') ?? 0) };
  fill(root, h('h2', {}, 'Projects & datasets'), h('div', { class: 'catalog' }, h('div', { class: 'side' }, projects, tree), h('div', { class: 'main' }, grid), details));
  void loadProjects(ctx);
  return () => observer.disconnect();
}

/** @typedef {{ projects: HTMLElement, tree: HTMLElement, grid: HTMLElement, details: HTMLElement, observer: IntersectionObserver, projectId: number, datasetId: number, type?: string }} Ctx */

/** @param {Ctx} ctx */
async function loadProjects(ctx) {
  let list;
  try {
    list = await listAll('projects.list', {});
  } catch (err) {
    return void fill(ctx.projects, notice('error', `Projects cannot be listed: ${err instanceof Error ? err.message : err}`));
  }
  const select = h('select', { id: 'project-select' }, list.map((p) => h('option', { value: p.id, selected: p.id === ctx.projectId }, `${p.name} (${p.type}, ${p.itemsCount ?? 0} items)`)));
  select.addEventListener('change', () => { ctx.projectId = Number(select.value); ctx.datasetId = 0; void loadTree(ctx, list); });
  fill(ctx.projects, h('div', { class: 'field' }, h('label', { for: 'project-select' }, 'Project'), select), newProjectForm(ctx));
  if (list.length === 0) return void fill(ctx.tree, notice('info', 'No projects yet.'));
  if (!list.some((p) => p.id === ctx.projectId)) ctx.projectId = list[0].id;
  await loadTree(ctx, list);
}

/** @param {Ctx} ctx */
function newProjectForm(ctx) {
  const name = h('input', { id: 'new-project-name', required: true });
  const type = h('select', { id: 'new-project-type' }, h('option', { value: 'images' }, 'images'), h('option', { value: 'videos' }, 'videos'));
  const msg = h('div');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New project' },
    h('div', { class: 'field' }, h('label', { for: 'new-project-name' }, 'New project'), name), h('div', { class: 'field' }, h('label', { for: 'new-project-type' }, 'Type'), type),
    h('button', { type: 'submit', class: 'secondary' }, 'Create'), msg);
  form.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    if (name.value.trim() === '') return void fill(msg, notice('error', 'Enter a project name.'));
    try {
      const p = await call('projects.add', { name: name.value.trim(), workspaceId: 1, type: type.value });
      ctx.projectId = p.id;
      await loadProjects(ctx);
    } catch (err) { fill(msg, notice('error', err instanceof Error ? err.message : String(err))); }
  });
  return form;
}

/** @param {Ctx} ctx @param {any[]} list */
async function loadTree(ctx, list) {
  ctx.type = list.find((p) => p.id === ctx.projectId)?.type ?? 'images';
  const nodes = await datasetTree(ctx.projectId).catch((err) => { fill(ctx.tree, notice('error', err.message)); return null; });
  if (nodes === null) return;
  const newDs = h('input', { id: 'new-dataset-name' });
  const parent = h('select', { id: 'new-dataset-parent' }, h('option', { value: '' }, '(top level)'), nodes.map((n) => h('option', { value: n.id }, n.path)));
  const msg = h('div');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New dataset' },
    h('div', { class: 'field' }, h('label', { for: 'new-dataset-name' }, 'New dataset'), newDs),
    h('div', { class: 'field' }, h('label', { for: 'new-dataset-parent' }, 'Inside'), parent), h('button', { type: 'submit', class: 'secondary' }, 'Create'), msg);
  form.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    if (newDs.value.trim() === '') return void fill(msg, notice('error', 'Enter a dataset name.'));
    try {
      const d = await call('datasets.add', { projectId: ctx.projectId, name: newDs.value.trim(), parentId: parent.value ? Number(parent.value) : null });
      ctx.datasetId = d.id;
      await loadTree(ctx, list);
    } catch (err) { fill(msg, notice('error', err instanceof Error ? err.message : String(err))); }
  });
  fill(ctx.tree, h('ul', { class: 'tree', role: 'list' }, nodes.map((n) => h('li', { class: `depth-${Math.min(n.depth, 6)}` },
    h('button', { type: 'button', class: 'link', 'data-dataset': n.name, 'aria-current': n.id === ctx.datasetId ? 'true' : null,
      onclick: () => { ctx.datasetId = n.id; void loadTree(ctx, list); } }, `${n.name} (${n.itemsCount})`)))), form);
  const first = nodes.find((n) => n.itemsCount > 0) ?? nodes[0];
  if (ctx.datasetId === 0 && first) ctx.datasetId = first.id;
  if (ctx.datasetId !== 0) await loadGrid(ctx, 1);
  else fill(ctx.grid, notice('info', 'This project has no datasets yet.'));
}

/** @param {Ctx} ctx @param {number} page */
async function loadGrid(ctx, page) {
  const kind = ctx.type === 'videos' ? 'videos' : 'images';
  let r;
  try {
    r = await call(`${kind}.list`, { datasetId: ctx.datasetId, page, per_page: PER_PAGE, sort: 'id', sort_order: 'asc' });
  } catch (err) {
    return void fill(ctx.grid, notice('error', `Items cannot be listed: ${err instanceof Error ? err.message : err}`));
  }
  const cards = r.entities.map((/** @type {any} */ it) => card(ctx, kind, it));
  const pager = r.pagesCount > 1 ? h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'secondary', disabled: page <= 1, onclick: () => void loadGrid(ctx, page - 1) }, 'Previous page'),
    h('span', {}, ` Page ${page} of ${r.pagesCount} `),
    h('button', { type: 'button', class: 'secondary', disabled: page >= r.pagesCount, onclick: () => void loadGrid(ctx, page + 1) }, 'Next page')) : null;
  fill(ctx.grid, h('p', {}, `${r.total} ${kind}`), r.total === 0 ? notice('info', 'This dataset is empty: link files from the Cloud browser.') : h('ul', { class: 'thumbs', role: 'list' }, cards), pager);
}

/** @param {Ctx} ctx @param {string} kind @param {any} it */
function card(ctx, kind, it) {
  const img = h('img', { alt: it.name, width: THUMB, height: THUMB, 'data-item': it.id, class: 'thumb', decoding: 'async' });
  img.dataset['source'] = JSON.stringify(kind === 'videos' ? { video: { processingPath: it.processingPath, pathOriginal: it.pathOriginal } } : { path: it.pathOriginal });
  ctx.observer.observe(img);
  return h('li', {}, h('button', { type: 'button', class: 'card-button', 'aria-label': `Details of ${it.name}`, onclick: () => showDetails(ctx, kind, it) },
    img, h('span', { class: 'caption' }, it.name), kind === 'videos' ? h('span', { class: 'badge' }, 'video') : null));
}

/** Signs and sets a thumbnail's URL once it is near the viewport. @param {HTMLImageElement} img */
async function loadThumb(img) {
  const src = JSON.parse(img.dataset['source'] ?? '{}');
  try {
    const url = src.video ? await videoThumbUrl(src.video, THUMB) : src.path ? await previewUrl(src.path, THUMB) : null;
    if (url) img.src = url;
    else img.classList.add('no-thumb');
  } catch {
    img.classList.add('no-thumb');
  }
}

/** @param {Ctx} ctx @param {string} kind @param {any} it */
function showDetails(ctx, kind, it) {
  const meta = kind === 'videos' ? it.fileMeta ?? {} : {};
  const dims = kind === 'videos' ? (meta.width ? `${meta.width} × ${meta.height}` : '—') : (it.width ? `${it.width} × ${it.height}` : '—');
  const rows = [
    ['Name', it.name], ['Id', String(it.id)], ['Size', formatBytes(Number(it.size))], ['Dimensions', dims],
    ...(kind === 'videos' ? [['Duration', meta.duration ? `${Number(meta.duration).toFixed(1)} s` : '—'], ['Frames', String(meta.framesCount ?? '—')]] : []),
    ['Type', it.mime ?? meta.mime ?? '—'], ['Stored', it.link ? `linked: ${it.link}` : 'local (in Stowage\'s storage)'], ['Hash', it.hash ?? '—'],
  ];
  const dl = h('button', { type: 'button', 'data-action': 'download' }, 'Download');
  const msg = h('div');
  dl.addEventListener('click', () => void busy(dl, async () => {
    try {
      const blob = await download(`${kind}.download`, { id: it.id });
      const a = h('a', { href: URL.createObjectURL(blob), download: it.name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    } catch (err) { fill(msg, notice('error', `Download failed: ${err instanceof Error ? err.message : err}`)); }
  }));
  fill(ctx.details, h('h3', {}, it.name), h('dl', {}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])), dl, msg);
  dl.focus();
}
