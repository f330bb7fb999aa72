/** Small helpers shared by the repositories. */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { AppError, invalidInput } from '../errors.ts';
import type { DialectName } from './db-schema.ts';

/**
 * Values per `IN (...)` list. The SQLite bundled with Node binds up to 32,766
 * parameters (old builds: 999) and PostgreSQL 65,535; chunks of 5,000 keep
 * every statement far below both while a batch of 1,000 names stays one query.
 */
export const IN_CHUNK = 5_000;

/**
 * Parameters per multi-row INSERT: below SQLite's 32,766 and PostgreSQL's
 * 65,535 limits, so a batch of 1,000 items is one statement.
 */
export const MAX_INSERT_PARAMS = 30_000;

/**
 * `column IN (values)`. On PostgreSQL the list is one array parameter
 * (`= any($1)`, typed by the column): a thousand-value IN list costs ~20 ms
 * just to parse and plan there. Callers chunk with {@link IN_CHUNK}.
 */
export function inValues(dialect: DialectName, column: string, values: readonly (string | number)[]): RawBuilder<SqlBool> {
  if (values.length === 0) return sql<SqlBool>`1 = 0`;
  return dialect === 'postgres'
    ? sql<SqlBool>`${sql.ref(column)} = any(${[...values]})`
    : sql<SqlBool>`${sql.ref(column)} in (${sql.join(values)})`;
}

/** Splits `items` into arrays of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One clash of a unique name: the name and the id holding it (null = repeated in the request). */
export interface NameClash {
  name: string;
  id: number | null;
}

/** The wire's conflict: `Conflict` with `{type: 'NONUNIQUE', errors}`. */
export function nonUnique(what: string, errors: NameClash[]): AppError {
  const names = errors.map((e) => JSON.stringify(e.name)).join(', ');
  return new AppError('Conflict', `${what} name${errors.length === 1 ? '' : 's'} already in use: ${names}`, {
    type: 'NONUNIQUE',
    errors,
  });
}

/** True for a unique-constraint violation on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e.code === '23505') return true; // PostgreSQL unique_violation
  // node:sqlite: SQLITE_CONSTRAINT_UNIQUE (2067) / SQLITE_CONSTRAINT_PRIMARYKEY (1555).
  if (e.errcode === 2067 || e.errcode === 1555) return true;
  return typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed');
}

/** Names repeated inside one request, each once, in order of first repeat. */
export function repeatedNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
  }
  return [...repeated];
}

/** Refuses a missing or blank name. */
export function checkName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalidInput(field, `${field} must be a non-empty string`);
  return name;
}

/** Refuses anything but a safe non-negative integer (sizes, ids). */
export function checkCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidInput(field, `${field} must be a non-negative integer`);
  }
  return value;
}
