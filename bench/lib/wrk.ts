/**
 * Runs wrk with a Lua script that cycles through a list of paths and adds
 * the API key header; the script's done() hook prints one JSON line so the
 * figures are read exactly, not scraped from the human summary.
 */
import { writeFile } from 'node:fs/promises';
import { runChecked } from './run-command.ts';

export interface WrkOptions {
  url: string;
  scriptPath: string;
  threads: number;
  connections: number;
  seconds: number;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  bytes: number;
  /** Non-2xx/3xx replies. */
  statusErrors: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
  p50Ms: number;
  p99Ms: number;
}

/** Writes the Lua script: each wrk thread starts at its own offset in `paths`. */
export async function writeWrkScript(path: string, paths: readonly string[], headers: Record<string, string>): Promise<void> {
  const list = paths.map((p) => `  ${JSON.stringify(p)},`).join('\n');
  const hdrs = Object.entries(headers).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(', ');
  await writeFile(path, `local paths = {
${list}
}
local n = #paths
local headers = { ${hdrs} }
local counter = 1
local threads = {}

function setup(thread)
  thread:set("start", (#threads * 7919) % n)
  table.insert(threads, thread)
end

function init(args)
  counter = start or 0
end

function request()
  counter = counter % n + 1
  return wrk.format("GET", paths[counter], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"status":%d,"socket":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`);
}

export async function runWrk(wrkPath: string, o: WrkOptions): Promise<WrkResult> {
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', '10s', '-s', o.scriptPath, o.url];
  const { stdout } = await runChecked(wrkPath, args);
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
  const j = JSON.parse(line.slice('WRKJSON '.length)) as Record<string, number>;
  const seconds = (j['duration_us'] ?? 0) / 1e6;
  const requests = j['requests'] ?? 0;
  return {
    requests, seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    bytes: j['bytes'] ?? 0,
    statusErrors: j['status'] ?? 0,
    socketErrors: j['socket'] ?? 0,
    p50Ms: (j['p50_us'] ?? 0) / 1000,
    p99Ms: (j['p99_us'] ?? 0) / 1000,
  };
}
