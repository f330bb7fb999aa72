/**
 * What `stowage migrate project` does once its flags are parsed: builds the
 * services exactly as `serve` does (catalog, storage, connections), runs the
 * migration as a job in this process (so the API sees its progress, and a
 * killed run resumes), shows progress and prints the outcome.
 */
import { createApp } from '../app.ts';
import type { Config } from '../config/load-config.ts';
import { AppError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { describeError, type BackoffOptions } from './backoff.ts';
import { guardHeap } from './heap-guard.ts';
import type { JobRunner } from './job-runner.ts';
import type { JobView } from './job-types.ts';
import { progressFrom } from './project-stats.ts';
import { formatBytes } from '../config/units.ts';
import { onInterrupt, progressFor } from './progress.ts';
import type { CommandOutcome } from './storage-command.ts';

/** Parsed flags of `stowage migrate project`. */
export interface ProjectCommandOptions {
  projectId: number;
  to: string;
  keepTree: boolean;
  restart: boolean;
  concurrency: number;
  backoff: BackoffOptions;
  json: boolean;
}

/** Runs the command; prints progress and the outcome. */
export async function runProjectCommand(config: Config, o: ProjectCommandOptions): Promise<CommandOutcome> {
  const app = await createApp(config, createLogger('warn', process.stderr), { serving: false });
  const jobs = app.services.jobs;
  const unguard = guardHeap();
  try {
    return await runJob(jobs, o);
  } catch (err) {
    if (err instanceof AppError) return { code: err.kind === 'InvalidInput' || err.kind === 'NotFound' ? 2 : 1, message: err.message };
    return { code: 1, message: describeError(err) };
  } finally {
    unguard();
    await app.close();
  }
}

/** Starts (or resumes) the job and follows it to its end; Ctrl-C cancels it at once, resumable. */
async function runJob(runner: JobRunner, o: ProjectCommandOptions): Promise<CommandOutcome> {
  const output = progressFor(o.json, 'migrate');
  const jobs = runner.jobs;
  let jobId: number | undefined;
  const stopListening = onInterrupt(() => {
    if (jobId !== undefined) void jobs.cancel(jobId).catch(() => undefined);
  });
  try {
    const started = await runner.startProject({
      projectId: o.projectId, to: o.to, keepTree: o.keepTree, concurrency: o.concurrency, backoff: o.backoff, restart: o.restart,
      onFailure: (f) => output.event({ type: 'failure', ...f }),
    });
    if (started.alreadyRunning) return { code: 1, message: `migration ${started.job.id} of this project and target is running in ${started.job.owner ?? 'another process'}` };
    const id = started.job.id;
    jobId = id;
    if (started.resumed) output.event({ type: 'note', message: `resuming migration ${id} after item ${started.job.cursor}` });
    output.start(() => jobs.snapshot(id) ?? { phase: 'migrate', done: 0, total: undefined, bytes: 0, bytesTotal: undefined, counts: {} });
    const job = await jobs.wait(id);
    output.stop();
    printOutcome(job, o.json);
    return outcomeOf(job);
  } finally {
    output.stop();
    stopListening();
  }
}

function outcomeOf(job: JobView): CommandOutcome {
  const p = progressFrom(job.progress);
  if (job.status === 'done' && p.failed === 0) return { code: 0 };
  if (job.status === 'done') return { code: 1, message: `${p.failed} item(s) not migrated: run the command again to retry them` };
  if (job.status === 'cancelled') return { code: 130, message: `${job.message}` };
  return { code: 1, message: job.message };
}

function printOutcome(job: JobView, json: boolean): void {
  const p = progressFrom(job.progress);
  if (json || process.stderr.isTTY !== true) {
    process.stdout.write(`${JSON.stringify({ type: 'summary', job: job.id, status: job.status, message: job.message, ...p })}\n`);
    return;
  }
  const lines = [
    `migration ${job.id}: ${job.message}`,
    `  items looked at: ${p.scanned} of ${p.itemsTotal}; not linked yet: ${p.candidates}`,
    `  uploaded: ${p.uploaded} (${formatBytes(p.bytes)}); already at the target: ${p.alreadyRemote}; re-pointed: ${p.relinked}`,
    ...(p.changedMeanwhile > 0 ? [`  changed by someone else during the run (left as they are): ${p.changedMeanwhile}`] : []),
    `  failed: ${p.failed}`,
    ...p.failures.map((f) => `    ${f.id} ${f.name}: ${f.error}`),
    ...(p.failuresOmitted > 0 ? [`    … and ${p.failuresOmitted} more`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
