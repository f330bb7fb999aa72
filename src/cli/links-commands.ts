import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ImportProgress, ImportReport } from '../services/link-import.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

interface ImportFlags {
  dataset: string;
  metadata: boolean;
  json?: boolean;
}

function printReport(r: ImportReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  for (const e of r.errors) process.stdout.write(`line ${e.line}: ${e.link}: ${e.reason}\n`);
  if (r.errorsOmitted !== undefined) process.stdout.write(`… and ${r.errorsOmitted} more bad line(s)\n`);
  process.stdout.write(`imported ${r.imported}, skipped ${r.skipped} (already there), ${r.errors.length + (r.errorsOmitted ?? 0)} bad line(s)\n`);
}

/** A progress bar over the file's bytes, on a terminal only. */
async function progressBar(totalBytes: number): Promise<{ update(p: ImportProgress): void; stop(): void }> {
  if (process.stderr.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({
    format: 'links {bar} {percentage}% | {lines} lines | {imported} imported, {skipped} skipped, {failed} bad',
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  bar.start(totalBytes, 0, { lines: 0, imported: 0, skipped: 0, failed: 0 });
  return {
    update: (p) => bar.update(Math.min(p.bytes, totalBytes), { lines: p.lines, imported: p.imported, skipped: p.skipped, failed: p.failed }),
    stop: () => bar.stop(),
  };
}

/**
 * `stowage links import --dataset <id> links.txt`: imports a links file into a
 * dataset of an images or videos project (the project's type decides). Runs
 * in this process on the catalog and the remote connections, built exactly
 * as the server builds them (`createApp`), so no server needs to be up and
 * no API key is needed. Exit code 1 when some lines were not imported.
 */
export function registerLinksCommands(program: Command): void {
  const links = program.command('links').description('linked remote files');
  links.command('import')
    .description('import a .txt of links (one per line; blank lines and # comments skipped) into a dataset')
    .requiredOption('--dataset <id>', 'dataset id')
    .option('--no-metadata', 'do not read size, type and dimensions from each object')
    .option('--json', 'print the report as JSON')
    .argument('<file>', 'links file')
    .action(async (file: string, flags: ImportFlags, cmd: Command) => {
      const datasetId = Number(flags.dataset);
      if (!Number.isSafeInteger(datasetId) || datasetId <= 0) throw new CliError(`--dataset "${flags.dataset}": expected a dataset id`, 2);
      const size = await stat(file).then((s) => s.size, () => { throw new CliError(`cannot read ${file}`, 2); });
      const config = configFor(cmd);
      // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
      const { createLogger } = await import('../logger.ts');
      const { createApp } = await import('../app.ts');
      const { LinkImporter, readLines } = await import('../services/link-import.ts');
      const app = await createApp(config, createLogger('warn', process.stderr), { serving: false });
      const bar = await progressBar(size);
      try {
        const { catalog, items } = app.services;
        const dataset = await catalog.datasets.get(datasetId);
        const project = dataset === undefined ? undefined : await catalog.projects.get(dataset.projectId);
        if (project === undefined) throw new CliError(`dataset ${datasetId} not found`, 1);
        const lines = readLines(createReadStream(file));
        const report = await new LinkImporter(catalog, items).run(project.type === 'images' ? 'image' : 'video', datasetId, lines, {
          forceMetadataForLinks: flags.metadata, onProgress: (p) => bar.update(p),
        });
        bar.stop();
        printReport(report, flags.json === true);
        if (report.errors.length > 0) throw new CliError(`${report.errors.length + (report.errorsOmitted ?? 0)} line(s) not imported`, 1);
      } finally {
        bar.stop();
        await app.close();
      }
    });
}
