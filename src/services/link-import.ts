/**
 * Import of a links file (the seed's "Links plugin" format): one link per
 * line, `<scheme>://<bucket>/<key>` or a public http(s) URL. Blank lines and
 * `#` comments are skipped. Each item is named after the key's base name.
 *
 * Lines are read as a stream and handled in batches of {@link IMPORT_BATCH}:
 * names are checked against the dataset in one query, objects are described
 * with bounded concurrency, the good rows go in with one `addMany`. A bad
 * line never stops the import: it is reported with its number and reason.
 * Re-running a file adds nothing: a line whose name is already in the dataset
 * with the same link is skipped; with another link it is a conflict.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import type { Catalog, LinkedItemMeta, NewImage, NewVideo } from '../catalog/types.ts';
import { parseLink } from '../links/link-url.ts';
import type { ItemKind, ItemService, LinkOptions } from './items.ts';
import { settleLimit } from './map-limit.ts';

/** Lines per catalog batch (one name query, one insert). */
export const IMPORT_BATCH = 1000;
/** Objects described at once. */
export const IMPORT_CONCURRENCY = 32;
/** Errors listed in a report; the rest are only counted (`errorsOmitted`). */
export const MAX_REPORTED_ERRORS = 10_000;
const MAX_NAME = 255;
const MAX_LINK = 4096;

/** One line that was not imported, and why. */
export interface ImportError {
  line: number;
  link: string;
  reason: string;
}

/** Outcome of an import. */
export interface ImportReport {
  imported: number;
  /** Lines already in the dataset with the same name and link (or repeated in the file). */
  skipped: number;
  errors: ImportError[];
  /** Errors beyond {@link MAX_REPORTED_ERRORS}, counted only. */
  errorsOmitted?: number;
}

/** Where an import is, after each batch. */
export interface ImportProgress {
  lines: number;
  /** Bytes of the file consumed (for a progress bar over the file size). */
  bytes: number;
  imported: number;
  skipped: number;
  failed: number;
}

/** Counters of an earlier run of the same file, carried on by a resumed one. */
export interface ImportCounts {
  imported: number;
  skipped: number;
  failed: number;
  errors: ImportError[];
}

/** Options of {@link LinkImporter.run}. */
export interface ImportOptions extends LinkOptions {
  onProgress?: (p: ImportProgress) => void;
  concurrency?: number;
  /** Resume: lines up to this number were handled by an earlier run and are skipped. Default 0. */
  afterLine?: number;
  /** Resume: the earlier run's counters. */
  from?: ImportCounts;
  /** After each batch: every line up to `line` is handled (a background job saves it as its checkpoint). */
  onCheckpoint?: (line: number, report: ImportReport) => Promise<void>;
  /** Stops the import between batches (throws the signal's reason). */
  signal?: AbortSignal;
}

interface Candidate {
  line: number;
  link: string;
  name: string;
}

/**
 * A text stream as lines (LF or CRLF), read as they are consumed. The
 * iterator is made at once: readline drops lines emitted before iteration
 * starts, and an import awaits the catalog before it reads the first line.
 */
export function readLines(input: Readable): AsyncIterable<string> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
  return { [Symbol.asyncIterator]: () => lines };
}

/** The item name a link gets: the key's (or URL path's) last segment. */
export function linkName(link: string): string {
  const parsed = parseLink(link);
  const path = parsed.kind === 'bucket' ? parsed.key : parsed.url.pathname;
  const base = path.split('/').filter((s) => s !== '').at(-1) ?? '';
  if (parsed.kind === 'bucket') return base;
  try {
    return decodeURIComponent(base);
  } catch {
    return base;
  }
}

/** Imports links files into datasets; stateless, cheap to make per call. */
export class LinkImporter {
  readonly #catalog: Catalog;
  readonly #items: ItemService;

  constructor(catalog: Catalog, items: ItemService) {
    this.#catalog = catalog;
    this.#items = items;
  }

  /** Imports the links in `lines` (a file's lines, in order) into a dataset. */
  async run(kind: ItemKind, datasetId: number, lines: AsyncIterable<string>, opts: ImportOptions = {}): Promise<ImportReport> {
    await this.#items.datasetFor(kind, datasetId);
    const run = new ImportRun(opts.from);
    const afterLine = opts.afterLine ?? 0;
    let batch: Candidate[] = [];
    let number = 0;
    for await (const raw of lines) {
      number += 1;
      run.bytes += Buffer.byteLength(raw) + 1;
      if (number <= afterLine) continue;
      const candidate = run.candidate(number === 1 ? raw.replace(/^\uFEFF/, '') : raw, number);
      if (candidate !== undefined) batch.push(candidate);
      if (batch.length >= IMPORT_BATCH) {
        await this.#batch(kind, datasetId, batch, run, opts);
        batch = [];
        opts.onProgress?.(run.progress(number));
        await opts.onCheckpoint?.(number, run.report());
        opts.signal?.throwIfAborted();
      }
    }
    if (batch.length > 0) await this.#batch(kind, datasetId, batch, run, opts);
    opts.onProgress?.(run.progress(number));
    return run.report();
  }

  async #batch(kind: ItemKind, datasetId: number, batch: Candidate[], run: ImportRun, opts: ImportOptions): Promise<void> {
    const fresh = await this.#unseen(kind, datasetId, batch, run);
    const described = await settleLimit(fresh, opts.concurrency ?? IMPORT_CONCURRENCY, (c) =>
      this.#items.describeLink(kind, c.link, `line ${c.line}`, opts));
    const rows: Array<{ c: Candidate; meta: LinkedItemMeta | undefined }> = [];
    described.forEach((d, i) => {
      const c = fresh[i] as Candidate;
      if (d.status === 'fulfilled') rows.push({ c, meta: d.value });
      else run.fail(c, reasonOf(d.reason, c.line));
    });
    try {
      run.imported += await this.#insert(kind, datasetId, rows);
    } catch (err) {
      // Another import took some names meanwhile: sort those out, insert the rest.
      if (!(err instanceof AppError) || err.kind !== 'Conflict') throw err;
      const again = await this.#unseen(kind, datasetId, rows.map((r) => r.c), run);
      run.imported += await this.#insert(kind, datasetId, rows.filter((r) => again.includes(r.c)));
    }
  }

  async #insert(kind: ItemKind, datasetId: number, rows: Array<{ c: Candidate; meta: LinkedItemMeta | undefined }>): Promise<number> {
    if (rows.length === 0) return 0;
    const items: Array<NewImage & NewVideo> = rows.map(({ c, meta }) => ({ name: c.name, link: c.link, meta: {}, ...meta }));
    const added = await (kind === 'image' ? this.#catalog.images : this.#catalog.videos).addMany(datasetId, items);
    return added.length;
  }

  /**
   * The candidates whose names are new to the dataset and to this batch; the
   * others are counted in `run` as skipped (same link) or failed (another link).
   */
  async #unseen(kind: ItemKind, datasetId: number, batch: Candidate[], run: ImportRun): Promise<Candidate[]> {
    const names = [...new Set(batch.map((c) => c.name))];
    const repo = kind === 'image' ? this.#catalog.images : this.#catalog.videos;
    const { rows } = await repo.list({ datasetId, filters: [{ field: 'name', operator: 'in', value: names }], limit: names.length });
    const taken = new Map(rows.map((r) => [r.name, r.link]));
    const inBatch = new Map<string, string>();
    const fresh: Candidate[] = [];
    for (const c of batch) {
      const holder = taken.has(c.name) ? (taken.get(c.name) ?? null) : inBatch.get(c.name);
      if (holder === undefined) {
        inBatch.set(c.name, c.link);
        fresh.push(c);
      } else if (holder === c.link) {
        run.skipped += 1;
      } else {
        run.fail(c, `conflict: the dataset already has "${c.name}" ${holder === null ? 'stored without a link' : `linked to ${holder}`}`);
      }
    }
    return fresh;
  }
}

/** Counters and errors of one import. */
class ImportRun {
  imported = 0;
  skipped = 0;
  failed = 0;
  bytes = 0;
  readonly errors: ImportError[] = [];

  constructor(from?: ImportCounts) {
    if (from === undefined) return;
    this.imported = from.imported;
    this.skipped = from.skipped;
    this.failed = from.failed;
    this.errors.push(...from.errors.slice(0, MAX_REPORTED_ERRORS));
  }

  /** A line as a candidate, or undefined (blank, comment, or reported as bad). */
  candidate(raw: string, line: number): Candidate | undefined {
    const link = raw.trim();
    if (link === '' || link.startsWith('#')) return undefined;
    if (link.length > MAX_LINK) return this.fail({ line, link: `${link.slice(0, 200)}…` }, `link longer than ${MAX_LINK} characters`);
    try {
      const name = linkName(link);
      if (name === '') return this.fail({ line, link }, 'the link has no file name');
      if (name.length > MAX_NAME) return this.fail({ line, link }, `file name longer than ${MAX_NAME} characters`);
      return { line, link, name };
    } catch (err) {
      return this.fail({ line, link }, reasonOf(err, line));
    }
  }

  fail(c: { line: number; link: string }, reason: string): undefined {
    this.failed += 1;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ line: c.line, link: c.link, reason });
    return undefined;
  }

  progress(lines: number): ImportProgress {
    return { lines, bytes: this.bytes, imported: this.imported, skipped: this.skipped, failed: this.failed };
  }

  report(): ImportReport {
    const omitted = this.failed - this.errors.length;
    // Name conflicts are found before metadata failures of the same batch: report in file order.
    const errors = [...this.errors].sort((a, b) => a.line - b.line);
    return { imported: this.imported, skipped: this.skipped, errors, ...(omitted > 0 ? { errorsOmitted: omitted } : {}) };
  }
}

/** An error's message without the `line N: ` / `link: ` prefix the services add (the report has both). */
function reasonOf(err: unknown, line: number): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(new RegExp(`^(line ${line}|link): `), '');
}
