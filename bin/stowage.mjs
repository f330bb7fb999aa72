#!/usr/bin/env node
// Launcher: Stowage runs TypeScript directly, which needs Node 24. When started
// by an older Node (a global install, a bare shell), re-run with the Node 24
// that the project installs as a dependency.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import(main);
} else {
  const node = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(node)) {
    console.error(`stowage needs Node.js 24; run "npm install" in ${root} first`);
    process.exit(1);
  }
  const r = spawnSync(node, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
