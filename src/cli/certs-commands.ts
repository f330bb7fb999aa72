import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { KEY_TYPES, KeyType } from '../rolesanywhere/certs.ts';
import { CliError } from './cli-error.ts';

/** `KEY_TYPES`, copied for the help text: the certificate code loads only when `certs init` runs (tsc checks it is the same list). */
const KEY_TYPE_NAMES: typeof KEY_TYPES = ['rsa', 'ec'];

interface InitOptions {
  cn: string;
  o: string;
  ou: string;
  days: string;
  out: string;
  keyType: string;
  force: boolean;
}

function nextSteps(dir: string): string {
  return [
    `wrote ca.crt, ca.key (0600), client.crt and client.key (0600) to ${dir}`,
    'next:',
    '  1. AWS console > IAM Roles Anywhere > Create a trust anchor > External certificate bundle: paste the base64 line printed above',
    '  2. create a role trusting rolesanywhere.amazonaws.com, and a profile with that role',
    `  3. set STORAGE_ROLESANYWHERE_CERTIFICATE=${dir}/client.crt and STORAGE_ROLESANYWHERE_PRIVATE_KEY=${dir}/client.key`,
    '     (or certificate/private_key under rolesanywhere: in remote_links.yml) and the trust anchor, profile and role ARNs',
    'keep ca.key offline: it can issue certificates your trust anchor accepts',
  ].join('\n');
}

/** `stowage certs init`: the CA and client certificate for IAM Roles Anywhere. */
export function registerCertsCommands(program: Command): void {
  const certs = program.command('certs').description('certificates for IAM Roles Anywhere');
  certs.command('init')
    .description('write a CA (ca.crt, ca.key) and a client certificate (client.crt, client.key) for IAM Roles Anywhere; prints base64 of ca.crt for the trust anchor')
    .requiredOption('--cn <name>', 'common name of the client certificate (the CA gets "<name> CA")')
    .requiredOption('--o <organization>', 'organization (O)')
    .requiredOption('--ou <unit>', 'organizational unit (OU)')
    .requiredOption('--days <n>', 'validity in days')
    .option('--out <dir>', 'folder to write to', '.')
    .option('--key-type <type>', `key algorithm: ${KEY_TYPE_NAMES.join(' (2048-bit) or ')} (P-256)`, 'rsa')
    .option('--force', 'replace existing files', false)
    .action(async (opts: InitOptions) => {
      // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
      const { certificateRequestProblem, createCertificates, writeCertificateFiles } = await import('../rolesanywhere/certs.ts');
      const days = /^\d+$/u.test(opts.days) ? Number(opts.days) : Number.NaN;
      const request = { cn: opts.cn, o: opts.o, ou: opts.ou, days, keyType: opts.keyType as KeyType };
      const problem = certificateRequestProblem(request);
      if (problem !== undefined) throw new CliError(problem, 2);
      const dir = resolve(opts.out);
      const bundle = await createCertificates(request);
      try {
        await writeCertificateFiles(dir, bundle, opts.force);
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err));
      }
      // The same bytes `base64 ca.crt` gives, on one line.
      process.stdout.write(`${(await readFile(resolve(dir, 'ca.crt'))).toString('base64')}\n`);
      process.stderr.write(`${nextSteps(dir)}\n`);
    });
}
