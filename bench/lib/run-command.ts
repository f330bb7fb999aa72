/** Runs an external program to completion, capturing its output. */
import { spawn } from 'node:child_process';
import { track } from './child-registry.ts';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time in ms from spawn to exit. */
  ms: number;
}

export function runCommand(file: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** Like {@link runCommand} but fails on a non-zero exit, quoting stderr. */
export async function runChecked(file: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<CommandResult> {
  const r = await runCommand(file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 1000)}`);
  return r;
}
