import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { FieldFilter, ListQuery, ListResult } from '../catalog/types.ts';

/** Default and largest page sizes of every `*.list`. */
export const DEFAULT_PER_PAGE = 1000;
export const MAX_PER_PAGE = 20000;

const OPERATORS = ['=', '!=', 'in', '<', '<=', '>', '>=', 'contains'] as const;

/** Listing keys of the wire, shared by every `*.list` schema. */
export const listShape = {
  filter: z.array(z.object({
    field: z.string().min(1),
    operator: z.enum(OPERATORS, { message: `expected one of ${OPERATORS.join(' ')}` }),
    value: z.unknown(),
  })).default([]),
  sort: z.string().min(1).default('id'),
  sort_order: z.enum(['asc', 'desc']).default('asc'),
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(MAX_PER_PAGE).default(DEFAULT_PER_PAGE),
  pagination_mode: z.enum(['page', 'token']).default('page'),
  after: z.string().nullable().optional(),
};

/** The parsed listing keys. */
export interface ListInput {
  filter: FieldFilter[];
  sort: string;
  sort_order: 'asc' | 'desc';
  page: number;
  per_page: number;
  pagination_mode: 'page' | 'token';
  after?: string | null | undefined;
}

// Token mode pages by id when sorted by id ascending (keyset, fast at any depth)
// and by offset otherwise; the token says which.
interface Cursor { id?: number; offset?: number }

function decodeCursor(after: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as Cursor;
    if (typeof c === 'object' && c !== null) return c;
  } catch { /* fall through */ }
  throw new AppError('InvalidInput', 'after: not a token returned by this server', { field: 'after' });
}

/** Catalog query for a listing input. */
export function toListQuery(input: ListInput): ListQuery {
  const base: ListQuery = { filters: input.filter, sort: input.sort, sortOrder: input.sort_order, limit: input.per_page };
  if (input.pagination_mode === 'token') {
    const c = input.after ? decodeCursor(input.after) : {};
    if (c.id !== undefined) return { ...base, afterId: c.id };
    return { ...base, offset: c.offset ?? 0 };
  }
  return { ...base, offset: (input.page - 1) * input.per_page };
}

/** The wire's page reply; in token mode it always has `after` (null at the end). */
export function pageReply<T>(input: ListInput, q: ListQuery, result: ListResult<T>, map: (row: T) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {
    total: result.total,
    perPage: input.per_page,
    pagesCount: Math.ceil(result.total / input.per_page),
    entities: result.rows.map(map),
  };
  if (input.pagination_mode === 'token') out['after'] = nextCursor(input, q, result);
  return out;
}

function nextCursor<T>(input: ListInput, q: ListQuery, result: ListResult<T>): string | null {
  if (result.rows.length < input.per_page) return null;
  const keyset = input.sort === 'id' && input.sort_order === 'asc';
  const last = result.rows[result.rows.length - 1] as { id?: number } | undefined;
  const cursor: Cursor = keyset && last?.id !== undefined ? { id: last.id } : { offset: (q.offset ?? 0) + result.rows.length };
  if (!keyset && (cursor.offset ?? 0) >= result.total) return null;
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}
