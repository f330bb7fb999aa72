/**
 * Summarises V8 `.cpuprofile` files (written by the server under
 * BENCH_CPU_PROF=1) into where the time went: by function and by area
 * (our src/, each node_modules package, Node internals, native/GC), so a
 * missed target comes with a pointer for the owner.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { say } from './report.ts';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Self time in ms per profile node id. */
function selfTimes(p: CpuProfile): Map<number, number> {
  const out = new Map<number, number>();
  p.samples.forEach((id, i) => out.set(id, (out.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  return out;
}

/** `src/http/send-object.ts`, `fastify`, `node:internal`, `(native)`... */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1] !== undefined) return pkg[1];
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const src = /\/(src\/.+)$/.exec(url);
  return src?.[1] ?? url;
}

function frameLabel(f: CallFrame): string {
  const file = f.url === '' ? '' : ` ${f.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${f.lineNumber + 1}`;
  return `${f.functionName || '(anonymous)'}${file}`;
}

function addTo(map: Map<string, number>, key: string, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms);
}

/** Percentages are of busy time: idle samples say the event loop waited, not where CPU went. */
function printTop(title: string, map: Map<string, number>, total: number, top: number): void {
  say(`  ${title} (% of busy time):`);
  const rows = [...map.entries()].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, ms] of rows) say(`    ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${key}`);
}

/** Prints the top functions and areas by self time of every profile in `dir`. */
export async function summarizeProfiles(dir: string, top = 25): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const byNode = selfTimes(profile);
    const byFunction = new Map<string, number>();
    const byArea = new Map<string, number>();
    let total = 0;
    for (const node of profile.nodes) {
      const ms = byNode.get(node.id) ?? 0;
      total += ms;
      addTo(byFunction, frameLabel(node.callFrame), ms);
      addTo(byArea, areaOf(node.callFrame.url, node.callFrame.functionName), ms);
    }
    const idle = byArea.get('(idle)') ?? 0;
    const busy = total - idle;
    say(`  CPU profile of the server's main thread ${join(dir, file)}: ${(total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy, ${(idle / 1000).toFixed(1)} s idle`);
    printTop('self time by area', byArea, busy, 15);
    printTop('self time by function', byFunction, busy, top);
  }
}
