/**
 * The shared listing machinery: wire filters and sorts mapped through
 * allow-lists onto columns, page (limit/offset) and keyset (afterId) modes, and
 * the total count.
 */
import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { AppError, invalidInput } from '../errors.ts';
import type { DialectName } from './db-schema.ts';
import { inValues } from './sql-util.ts';
import type { FieldFilter, ListQuery, ListResult } from './types.ts';

/** How a filterable column's values are checked and compared. */
export type FieldKind = 'int' | 'nullableInt' | 'text' | 'nullableText' | 'time';

/** A filterable wire field: its column and kind. */
export interface FieldSpec {
  column: string;
  kind: FieldKind;
}

/** What one entity's lists accept. */
export interface ListSpec {
  /** camelCase wire field → column; anything else is refused. */
  filterFields: Readonly<Record<string, FieldSpec>>;
  /** camelCase wire sort name → column. */
  sortFields: Readonly<Record<string, string>>;
}

/** Most values one `in` filter may carry (SQLite binds each as a parameter). */
const MAX_IN_VALUES = 10_000;

// `any` here: these helpers serve queries over several tables, and they only
// ever add conditions on allow-listed columns.
type AnySelect = SelectQueryBuilder<any, any, any>;

/** Runs a list: `base` yields the scoped FROM/WHERE (no selection). */
export async function runList<T>(args: {
  dialect: DialectName;
  spec: ListSpec;
  query: ListQuery;
  base: () => AnySelect;
  map: (row: any) => T;
  /** Total without COUNT(*), used when the query has no filters (counters). */
  unfilteredTotal?: (() => Promise<number>) | undefined;
}): Promise<ListResult<T>> {
  const { dialect, spec, query } = args;
  checkPaging(query);
  const conditions = (query.filters ?? []).map((f) => filterCondition(f, spec, dialect));
  const filtered = (): AnySelect => conditions.reduce((qb, c) => qb.where(c), args.base());
  const page = paginate(filtered().selectAll(), query, spec);
  const total =
    conditions.length === 0 && args.unfilteredTotal
      ? args.unfilteredTotal()
      : filtered()
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
          .then((r: { n: unknown }) => Number(r.n));
  const [rows, count] = await Promise.all([page.execute(), total]);
  return { total: count, rows: rows.map(args.map) };
}

/** Refuses a limit, offset or afterId that is not a usable integer. */
export function checkPaging(query: ListQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 0) throw invalidInput('limit', 'limit must be a non-negative integer');
  if (query.offset !== undefined && (!Number.isInteger(query.offset) || query.offset < 0)) {
    throw invalidInput('offset', 'offset must be a non-negative integer');
  }
  if (query.afterId !== undefined && !Number.isInteger(query.afterId)) throw invalidInput('afterId', 'afterId must be an integer');
}

/**
 * Orders and pages. Keyset mode (`afterId`) always walks ids (in `sortOrder`)
 * and ignores `offset`; page mode sorts by the chosen field with id as the
 * tie-breaker so pages never overlap.
 */
function paginate(qb: AnySelect, query: ListQuery, spec: ListSpec): AnySelect {
  const dir = query.sortOrder === 'desc' ? 'desc' : 'asc';
  const sortName = query.sort ?? 'id';
  const column = own(spec.sortFields, sortName);
  if (column === undefined) throw invalidInput('sort', `cannot sort by "${sortName}"`);
  if (query.afterId !== undefined) {
    if (column !== 'id') throw invalidInput('sort', 'afterId pages walk ids: sort must be "id"');
    return qb
      .where(sql.ref('id'), dir === 'asc' ? '>' : '<', query.afterId)
      .orderBy(sql.ref('id'), dir)
      .limit(query.limit);
  }
  let ordered = column === 'id' ? qb : qb.orderBy(sql.ref(column), dir);
  ordered = ordered.orderBy(sql.ref('id'), dir).limit(query.limit);
  return query.offset ? ordered.offset(query.offset) : ordered;
}

/** One wire filter as a SQL condition, after checking field, operator and value. */
export function filterCondition(f: FieldFilter, spec: ListSpec, dialect: DialectName): RawBuilder<SqlBool> {
  const field = typeof f.field === 'string' ? own(spec.filterFields, f.field) : undefined;
  if (field === undefined) {
    throw new AppError('InvalidInput', `cannot filter by "${String(f.field)}"`, { field: String(f.field) });
  }
  const col = sql.ref(field.column);
  const nullable = field.kind === 'nullableInt' || field.kind === 'nullableText';
  switch (f.operator) {
    case '=':
      return f.value === null && nullable ? sql<SqlBool>`${col} is null` : sql<SqlBool>`${col} = ${scalar(f, field)}`;
    case '!=':
      if (f.value === null && nullable) return sql<SqlBool>`${col} is not null`;
      // NULL <> 'x' is unknown in SQL; a wire client expects such rows to match.
      return nullable
        ? sql<SqlBool>`(${col} <> ${scalar(f, field)} or ${col} is null)`
        : sql<SqlBool>`${col} <> ${scalar(f, field)}`;
    case 'in':
      return inCondition(f, field, dialect);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return sql<SqlBool>`${col} ${sql.raw(f.operator)} ${scalar(f, field)}`;
    case 'contains':
      return containsCondition(f, field, dialect);
    default:
      throw new AppError('InvalidInput', `unknown filter operator "${String(f.operator)}"`, { field: f.field });
  }
}

function inCondition(f: FieldFilter, field: FieldSpec, dialect: DialectName): RawBuilder<SqlBool> {
  if (!Array.isArray(f.value)) throw badValue(f, 'an array');
  if (f.value.length > MAX_IN_VALUES) throw badValue(f, `at most ${MAX_IN_VALUES} values`);
  const col = sql.ref(field.column);
  const values = f.value.filter((v) => v !== null).map((v) => scalar({ ...f, value: v }, field));
  const withNull = values.length < f.value.length && (field.kind === 'nullableInt' || field.kind === 'nullableText');
  const list = inValues(dialect, field.column, values);
  return withNull ? sql<SqlBool>`(${list} or ${col} is null)` : list;
}

function containsCondition(f: FieldFilter, field: FieldSpec, dialect: DialectName): RawBuilder<SqlBool> {
  if (field.kind !== 'text' && field.kind !== 'nullableText') throw badValue(f, 'a text field for "contains"');
  if (typeof f.value !== 'string') throw badValue(f, 'a string');
  const pattern = `%${f.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  // Case-insensitive on both: SQLite's LIKE already folds (ASCII) case.
  const op = sql.raw(dialect === 'postgres' ? 'ilike' : 'like');
  return sql<SqlBool>`${sql.ref(field.column)} ${op} ${pattern} escape '\\'`;
}

/** Checks and normalises one comparison value for the field's kind. */
function scalar(f: FieldFilter, field: FieldSpec): number | string {
  const v = f.value;
  switch (field.kind) {
    case 'int':
    case 'nullableInt': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw badValue(f, 'an integer');
      return n;
    }
    case 'text':
    case 'nullableText':
      if (typeof v !== 'string') throw badValue(f, 'a string');
      return v;
    case 'time': {
      // Stored timestamps are canonical ISO strings, so comparing text is
      // comparing instants once the value is canonical too.
      const ms = typeof v === 'string' || typeof v === 'number' ? new Date(v).getTime() : Number.NaN;
      if (Number.isNaN(ms)) throw badValue(f, 'an ISO-8601 timestamp');
      return new Date(ms).toISOString();
    }
  }
}

/** An allow-list lookup that ignores inherited keys (`constructor`, `__proto__`...). */
function own<V>(map: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function badValue(f: FieldFilter, expected: string): AppError {
  return new AppError('InvalidInput', `filter on "${f.field}" (${f.operator}) needs ${expected}`, { field: f.field });
}
