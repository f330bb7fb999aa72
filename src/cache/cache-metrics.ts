/** The caches' counters in the Prometheus text exposition format (version 0.0.4). */
import type { CacheStats } from './disk-cache.ts';

/** Size of the in-memory cache of small originals (it keeps no counters). */
export interface MemoryCacheSize {
  readonly sizeBytes: number;
  readonly entries: number;
  readonly maxBytes: number;
}

interface Metric {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly value: (s: CacheStats) => number;
  /** Also reported for the memory cache. */
  readonly memory?: (m: MemoryCacheSize) => number;
}

const METRICS: readonly Metric[] = [
  { name: 'stowage_cache_hits_total', type: 'counter', help: 'Lookups answered by a fresh cache entry.', value: (s) => s.hits },
  { name: 'stowage_cache_misses_total', type: 'counter', help: 'Lookups that found no fresh entry.', value: (s) => s.misses },
  { name: 'stowage_cache_served_bytes_total', type: 'counter', help: 'Bytes served from the cache (egress saved).', value: (s) => s.bytesServed },
  { name: 'stowage_cache_fetched_bytes_total', type: 'counter', help: 'Bytes fetched or produced to fill the cache.', value: (s) => s.bytesFetched },
  { name: 'stowage_cache_evictions_total', type: 'counter', help: 'Entries removed for space or age.', value: (s) => s.evictions },
  { name: 'stowage_cache_size_bytes', type: 'gauge', help: 'Bytes held.', value: (s) => s.sizeBytes, memory: (m) => m.sizeBytes },
  { name: 'stowage_cache_entries', type: 'gauge', help: 'Entries held.', value: (s) => s.entries, memory: (m) => m.entries },
  { name: 'stowage_cache_max_bytes', type: 'gauge', help: 'Size limit.', value: (s) => s.maxBytes, memory: (m) => m.maxBytes },
];

/** Renders one sample per cache (label `cache`) for each metric. */
export function renderCacheMetrics(caches: readonly CacheStats[], memory?: MemoryCacheSize): string {
  const lines: string[] = [];
  for (const m of METRICS) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of caches) lines.push(`${m.name}{cache="${escapeLabel(s.name)}"} ${m.value(s)}`);
    if (memory !== undefined && m.memory !== undefined) lines.push(`${m.name}{cache="memory"} ${m.memory(memory)}`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
