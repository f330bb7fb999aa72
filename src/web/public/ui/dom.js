// @ts-check
/** Small DOM helpers shared by the page's sections: no framework, no build step. */

/**
 * Creates an element. `attrs` keys starting with `on` add listeners; `class`,
 * `for` and data/aria attributes are set as attributes; others as properties.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | null | undefined | false | Array<Node | string | null | undefined | false>)} children
 * @returns {any}
 */
export function h(tag, attrs = {}, ...children) {
  const el = tag === 'svg' || SVG_TAGS.has(tag) ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (ATTRIBUTES.has(k) || k.includes('-') || el instanceof SVGElement) el.setAttribute(k, v === true ? '' : String(v));
    else /** @type {any} */ (el)[k] = v;
  }
  append(el, children);
  return el;
}
const SVG_TAGS = new Set(['rect', 'text', 'g', 'title', 'line']);
// Set as attributes: no property of that name, or a read-only one (`input.list`).
const ATTRIBUTES = new Set(['class', 'for', 'role', 'list']);

/**
 * @param {Element} el
 * @param {any[]} children
 */
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/**
 * Replaces an element's content.
 * @param {Element} el
 * @param {...any} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** @param {number | null | undefined} n */
export function formatBytes(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** @param {number} seconds */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/**
 * A message box of a section (role=alert so screen readers announce errors).
 * @param {'error' | 'ok' | 'info'} kind
 * @param {string} text
 */
export function notice(kind, text) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/**
 * Shows `text` under a form field (and marks it invalid); empty text clears it.
 * @param {HTMLElement} input
 * @param {string} text
 */
export function fieldError(input, text) {
  const id = `${input.id}-error`;
  let box = document.getElementById(id);
  if (box === null) {
    box = h('p', { class: 'field-error', id, role: 'alert' });
    (input.closest('.field') ?? input).append(/** @type {Node} */ (box));
  }
  box.textContent = text;
  box.hidden = text === '';
  if (text === '') {
    input.removeAttribute('aria-invalid');
  } else {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
  }
}

/**
 * A labelled form field: label, control and a slot for its error.
 * @param {string} id
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} [hint]
 */
export function field(id, label, control, hint) {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', { class: 'hint' }, hint) : null);
}

/**
 * Runs `fn` with `button` disabled and marked busy, so a double click sends nothing twice.
 * @template T
 * @param {HTMLButtonElement} button
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
