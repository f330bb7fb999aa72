// @ts-check
/**
 * Cache: per tier (`cache.stats`) its size against its limit, hit ratio,
 * egress saved (bytes served from the cache instead of the origin), with a
 * small inline SVG bar chart; "Clear" empties one tier (`cache.clear`).
 */
import { call } from './api.js';
import { busy, fill, formatBytes, h, notice } from './dom.js';

/** @param {HTMLElement} root */
export function render(root) {
  const body = h('div', { 'data-role': 'cache' });
  const msg = h('div', { 'aria-live': 'polite' });
  fill(root, h('h2', {}, 'Cache'), h('p', {}, 'Disk caches of originals read from cloud stores (storage), previews and conversions, and the memory cache of small originals.'), msg, body);
  void load(body, msg);
}

/** @param {{hits: number, misses: number}} c */
const ratio = (c) => (c.hits + c.misses === 0 ? null : c.hits / (c.hits + c.misses));

/** @param {HTMLElement} body @param {HTMLElement} msg */
async function load(body, msg) {
  let s;
  try {
    s = await call('cache.stats');
  } catch (err) {
    return void fill(body, notice('error', `Cache statistics cannot be read: ${err instanceof Error ? err.message : err}`));
  }
  const rows = s.caches.map((/** @type {any} */ c) => {
    const clear = h('button', { type: 'button', class: 'secondary', 'data-action': 'clear', 'data-tier': c.name }, `Clear ${c.name}`);
    clear.addEventListener('click', () => void busy(clear, async () => {
      if (!confirm(`Empty the ${c.name} cache? Its entries are fetched or made again on the next reads.`)) return;
      try {
        const r = await call('cache.clear', { tier: c.name });
        const done = r.cleared[0];
        fill(msg, notice('ok', `Cleared ${c.name}: ${done?.entries ?? 0} entries, ${formatBytes(done?.sizeBytes ?? 0)}.`));
        await load(body, msg);
      } catch (err) {
        fill(msg, notice('error', `${c.name} was not cleared: ${err instanceof Error ? err.message : err}`));
      }
    }));
    const r = ratio(c);
    return h('tr', { 'data-tier': c.name },
      h('th', { scope: 'row' }, c.name), h('td', {}, `${formatBytes(c.sizeBytes)} of ${formatBytes(c.maxBytes)}`), h('td', {}, String(c.entries)),
      h('td', {}, r === null ? '—' : `${(100 * r).toFixed(1)}% (${c.hits} hits, ${c.misses} misses)`),
      h('td', {}, formatBytes(c.bytesServed)), h('td', {}, String(c.evictions)), h('td', {}, clear));
  });
  fill(body, chart(s.caches),
    h('div', { class: 'table-wrap' }, h('table', { class: 'cache' },
      h('caption', {}, 'Disk caches'),
      h('thead', {}, h('tr', {}, ['Tier', 'Size', 'Entries', 'Hit ratio', 'Egress saved', 'Evictions', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows))),
    h('p', {}, `Memory cache: ${formatBytes(s.memory.sizeBytes)} of ${formatBytes(s.memory.maxBytes)}, ${s.memory.entries} entries.`));
}

/**
 * Bars per tier: fill of the limit, and hit ratio, both in percent.
 * @param {any[]} caches
 */
function chart(caches) {
  const rowH = 26;
  const labelW = 90;
  const barW = 240;
  const height = caches.length * rowH * 2 + 10;
  const svg = h('svg', { viewBox: `0 0 ${labelW + barW + 60} ${height}`, class: 'chart', role: 'img', 'aria-labelledby': 'cache-chart-title' },
    h('title', { id: 'cache-chart-title' }, 'Fill of each cache tier and its hit ratio'));
  caches.forEach((c, i) => {
    const fillPct = c.maxBytes > 0 ? Math.min(1, c.sizeBytes / c.maxBytes) : 0;
    const hit = ratio(c) ?? 0;
    const y = 5 + i * rowH * 2;
    svg.append(
      h('text', { x: 0, y: y + 15, class: 'chart-label' }, c.name),
      h('rect', { x: labelW, y, width: barW, height: rowH - 8, class: 'chart-track' }),
      h('rect', { x: labelW, y, width: Math.max(1, barW * fillPct), height: rowH - 8, class: 'chart-size' }),
      h('text', { x: labelW + barW + 6, y: y + 14, class: 'chart-value' }, `${(100 * fillPct).toFixed(0)}% full`),
      h('rect', { x: labelW, y: y + rowH - 4, width: barW, height: rowH - 8, class: 'chart-track' }),
      h('rect', { x: labelW, y: y + rowH - 4, width: Math.max(1, barW * hit), height: rowH - 8, class: 'chart-hit' }),
      h('text', { x: labelW + barW + 6, y: y + rowH + 10, class: 'chart-value' }, `${(100 * hit).toFixed(0)}% hits`));
  });
  return h('figure', { class: 'card' }, svg, h('figcaption', {}, 'Blue: how full each tier is. Green: share of reads served from it.'));
}
