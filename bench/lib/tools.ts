/** Presence checks for the external programs the benchmarks use as anchors. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program and the Debian package that provides it. */
export interface Tool {
  command: string;
  debianPackage: string;
}

export const NGINX: Tool = { command: 'nginx', debianPackage: 'nginx' };
export const WRK: Tool = { command: 'wrk', debianPackage: 'wrk' };
export const CP: Tool = { command: 'cp', debianPackage: 'coreutils' };

// nginx lives in /usr/sbin, which a non-login shell's PATH may lack.
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of an executable on PATH (or the sbin folders), if any. */
export function findExecutable(command: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Thrown when an anchor program is missing; the message says how to install it. */
export class MissingToolError extends Error {}

/** Paths of the tools, in the order given; fails naming every missing package and the apt command. */
export function requireTools(tools: readonly Tool[]): string[] {
  const found = tools.map((t) => findExecutable(t.command));
  const missing = tools.filter((_t, i) => found[i] === undefined);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => t.debianPackage))].join(' ');
    const names = missing.map((t) => `${t.command} (Debian package "${t.debianPackage}")`).join(', ');
    throw new MissingToolError(`missing ${names}; install with: apt-get update && apt-get install -y ${pkgs}`);
  }
  return found as string[];
}
