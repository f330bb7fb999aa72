import { readFileSync } from 'node:fs';

/** One problem found in a `.env` file, with its line number. */
export interface EnvFileProblem {
  line: number;
  message: string;
}

/** Parsed `.env`: variables in file order, plus problems found. */
export interface EnvFile {
  path: string;
  values: Record<string, string>;
  problems: EnvFileProblem[];
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/**
 * Reads a docker-compose style `.env` file: `KEY=value`, `# comments`, optional
 * single or double quotes, `export ` prefixes. Returns undefined when the file
 * does not exist; never throws for content problems (they are reported).
 */
export function readEnvFile(path: string): EnvFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseEnvText(text, path);
}

/** Parses `.env` text; see {@link readEnvFile}. */
export function parseEnvText(text: string, path = '.env'): EnvFile {
  const values: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*(#|$)/.test(raw)) return;
    const m = LINE.exec(raw);
    if (!m || m[1] === undefined) {
      problems.push({ line: i + 1, message: `expected KEY=value, got "${raw.slice(0, 40)}"` });
      return;
    }
    values[m[1]] = unquote(m[2] ?? '');
  });
  return { path, values, problems };
}

function unquote(v: string): string {
  const q = v[0];
  if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
    const inner = v.slice(1, -1);
    return q === '"' ? inner.replace(/\\n/g, '\n').replace(/\\"/g, '"') : inner;
  }
  // An unquoted value may carry a trailing comment.
  return v.replace(/\s+#.*$/, '');
}
