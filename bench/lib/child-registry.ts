/**
 * Every child process a benchmark starts (Stowage, nginx, wrk) is recorded
 * here, so an interrupted run (Ctrl-C, kill of the bench) does not leave a
 * server holding a port and gigabytes of temp files.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let installed = false;

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  installHandlers();
}

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.stderr.write(`bench: interrupted by ${signal}\n`);
      process.exit(130);
    });
  }
}
