/**
 * Reading `remote_links.yml` (the seed's "Manual configuration" format): a map
 * of connection name → settings. Every problem is reported as
 * `<file>:<line>: <connection>.<field>: <what is wrong>`, so an operator can
 * fix the file without guessing; nothing is half-applied from a broken file.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLError } from 'yaml';
import { CONNECTION_NAME, CONNECTION_NAME_RULE, parseConnectionSettings, type ConnectionSettings } from './connection-schema.ts';
import { bucketOverlaps } from './connection-overlap.ts';

/** A connection defined in the file, with the line of its name. */
export interface FileConnection {
  name: string;
  settings: ConnectionSettings;
  line: number;
}

/** The result of reading the file: connections, or the line-numbered errors. */
export interface RemoteLinksFile {
  connections: FileConnection[];
  /** One line per problem; non-empty means the file must not be applied. */
  errors: string[];
}

/** Raised when the file is broken at start (the start stops). */
export class RemoteLinksError extends Error {
  readonly problems: string[];
  constructor(path: string, problems: string[]) {
    super(`${path} is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'RemoteLinksError';
    this.problems = problems;
  }
}

type Located = { line: number; path: string };

/**
 * Parses the file's text. `label` prefixes every error (the file's path).
 * YAML duplicate keys are errors (the seed's own azure example repeats
 * `secret_key`: which one was meant cannot be known, so neither is guessed).
 */
export function parseRemoteLinks(text: string, label: string): RemoteLinksFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter: lc, keepSourceTokens: true, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number) => lc.linePos(offset).line;
  const problems: Array<{ line: number; text: string }> = doc.errors.map((e) => ({ line: lineOf(e.pos[0]), text: describeYamlError(doc, e) }));
  const done = (connections: FileConnection[]): RemoteLinksFile => ({
    connections: problems.length === 0 ? connections : [],
    errors: problems.sort((a, b) => a.line - b.line).map((p) => `${label}:${p.line}: ${p.text}`),
  });
  // Past anything but duplicate keys the tree may be wrong: do not guess further.
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) return done([]);
  const root = doc.contents;
  if (root === null) return done([]);
  if (!isMap(root)) {
    problems.push({ line: lineOf(root.range?.[0] ?? 0), text: 'expected a map of connection names to their settings' });
    return done([]);
  }
  const connections: FileConnection[] = [];
  for (const pair of root.items) {
    const parsed = parseEntry(doc, pair, lineOf);
    for (const p of parsed.problems) problems.push({ line: p.line, text: `${p.path}: ${p.message}` });
    if (parsed.connection !== undefined) connections.push(parsed.connection);
  }
  for (const o of bucketOverlaps(connections)) {
    const bucketNode = findPair(root.items.find((p) => keyText(p) === o.name)?.value, 'buckets')?.value;
    const line = nodeLine(isSeq(bucketNode) ? bucketNode.items[o.index] : undefined, lineOf);
    problems.push({ line: line ?? connections.find((x) => x.name === o.name)?.line ?? 1, text: `${o.name}.buckets[${o.index}]: ${o.message}` });
  }
  return done(connections);
}

interface Problem extends Located {
  message: string;
}

function parseEntry(doc: Document, pair: Pair, lineOf: (o: number) => number): { connection?: FileConnection; problems: Problem[] } {
  const keyLine = nodeLine(pair.key, lineOf) ?? 1;
  const name = keyText(pair);
  if (name === undefined || !CONNECTION_NAME.test(name)) {
    return { problems: [{ line: keyLine, path: String(name ?? '?'), message: `invalid connection name: ${CONNECTION_NAME_RULE}` }] };
  }
  const value = pair.value as Node | null;
  const raw = value === null ? null : value.toJS(doc);
  const parsed = parseConnectionSettings(raw);
  if (parsed.settings !== undefined) return { connection: { name, settings: parsed.settings, line: keyLine }, problems: [] };
  const problems = parsed.issues.map((issue) => ({
    line: issueLine(value, issue.path, lineOf) ?? keyLine,
    path: [name, ...issue.path].map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join(''),
    message: issue.message,
  }));
  return { problems };
}

/** The line of the value at `path` (or of its field's key when the value is absent). */
function issueLine(value: Node | null, path: (string | number)[], lineOf: (o: number) => number): number | undefined {
  if (value === null || !isMap(value)) return nodeLine(value ?? undefined, lineOf);
  const [field, ...rest] = path;
  if (typeof field !== 'string') return nodeLine(value, lineOf);
  const pair = findPair(value, field);
  if (pair === undefined) return undefined;
  if (rest.length > 0 && typeof rest[0] === 'number' && isSeq(pair.value)) {
    const item = pair.value.items[rest[0]];
    if (item !== undefined) return nodeLine(item, lineOf);
  }
  return nodeLine(pair.value ?? undefined, lineOf) ?? nodeLine(pair.key, lineOf);
}

function describeYamlError(doc: Document, e: YAMLError): string {
  if (e.code !== 'DUPLICATE_KEY') {
    const first = e.message.split('\n')[0] ?? e.code;
    // The usual cause: an unquoted value containing ": " (the seed's own placeholders do this).
    const hint = /mappings are not allowed|Implicit map keys/.test(first) ? ' (quote a value that contains ": ")' : '';
    return `YAML syntax error: ${first}${hint}`;
  }
  const path = pathAt(doc.contents, e.pos[0], []);
  if (path.length <= 1) return `${path[0] ?? '?'}: connection defined twice (YAML duplicate key): keep one`;
  return `${path.join('.')}: defined twice (YAML duplicate key): keep only one`;
}

/** Names of the keys leading to the map key that starts at `offset`. */
function pathAt(node: unknown, offset: number, prefix: string[]): string[] {
  if (!isMap(node)) return prefix;
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    const name = keyText(pair) ?? '?';
    if (key?.range?.[0] === offset) return [...prefix, name];
    const range = (pair.value as Node | null)?.range;
    if (range !== undefined && range !== null && offset >= range[0] && offset < range[2]) return pathAt(pair.value, offset, [...prefix, name]);
  }
  return prefix;
}

function keyText(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function findPair(node: unknown, field: string): Pair | undefined {
  return isMap(node) ? node.items.find((p) => keyText(p) === field) : undefined;
}

function nodeLine(node: unknown, lineOf: (o: number) => number): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range === undefined || range === null ? undefined : lineOf(range[0]);
}

/**
 * Reads and parses the file. A missing file is no connections (and no error):
 * the file is optional, as in the seed.
 */
export async function readRemoteLinks(path: string): Promise<RemoteLinksFile & { missing: boolean; text: string | undefined }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { connections: [], errors: [], missing: true, text: undefined };
    return { connections: [], errors: [`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`], missing: false, text: undefined };
  }
  return { ...parseRemoteLinks(text, path), missing: false, text };
}

/**
 * Everything `stowage config check` reports about the file: its line-numbered
 * problems, plus each connection whose store cannot be built (a missing fs
 * folder, an unreadable credentials file). No network request is made.
 */
export async function checkRemoteLinks(
  path: string,
  build: (name: string, settings: ConnectionSettings) => Promise<{ close(): Promise<void> }>,
): Promise<{ missing: boolean; connections: string[]; errors: string[] }> {
  const file = await readRemoteLinks(path);
  const errors = [...file.errors];
  for (const c of file.connections) {
    try {
      await (await build(c.name, c.settings)).close();
    } catch (err) {
      const field = typeof (err as { field?: unknown }).field === 'string' ? `.${(err as { field: string }).field}` : '';
      errors.push(`${path}:${c.line}: ${c.name}${field}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { missing: file.missing, connections: file.connections.map((c) => c.name), errors };
}
