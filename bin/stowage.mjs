#!/usr/bin/env node
// Launcher: Stowage runs TypeScript directly, which needs Node 24. When started
// by an older Node (a global install, a bare shell), re-run with the Node 24
// that the project installs as a dependency.
//
// It is JavaScript on purpose: it turns on Node's compile cache before the
// first TypeScript module loads, so later starts reuse the stripped sources
// and never load the type stripper, whose WebAssembly memory (about 25 MiB)
// would otherwise stay resident for the life of the server.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  // Default folder: $NODE_COMPILE_CACHE, else the OS temp folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  nodeModule.enableCompileCache();
  // sharp (previews) and file I/O share libuv's pool, 4 threads by default; it starts on first use, after this line.
  process.env.UV_THREADPOOL_SIZE ??= '8';
  const { runCli } = await import(join(root, 'src', 'cli', 'main.ts'));
  await runCli(process.argv);
} else {
  const node = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(node)) {
    console.error(`stowage needs Node.js 24; run "npm install" in ${root} first`);
    process.exit(1);
  }
  const r = spawnSync(node, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
