/**
 * The metadata half of `*.update.links`: mime, size and dimensions (images)
 * or fileMeta (videos) read from the new links, written in the same
 * transaction as the links, with the dataset and project size counters moved
 * by the change.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { asItemDb, type ItemKind } from './item-kind.ts';
import { toJson } from './rows.ts';
import { checkCount, chunk, inValues } from './sql-util.ts';
import type { LinkedItemMeta, LinkUpdate } from './types.ts';

/** Rows per CASE-based update (several parameters per row and column). */
const META_CHUNK = 250;

/** Applies the `metadata` of `updates` (last one per id wins, as for the links). */
export async function applyLinkMetadata(
  trx: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<any, any>,
  updates: readonly LinkUpdate[],
): Promise<void> {
  const metas = new Map<number, LinkedItemMeta>();
  for (const u of updates) if (u.metadata !== undefined) metas.set(u.id, { ...u.metadata, size: checkCount(u.metadata.size, 'size') });
  if (metas.size === 0) return;
  const deltas = { datasets: new Map<number, number>(), projects: new Map<number, number>() };
  for (const part of chunk([...metas.keys()], META_CHUNK)) {
    const before = await asItemDb(trx).selectFrom(kind.table).select(['id', 'dataset_id', 'project_id', 'size'])
      .where(inValues(dialect, 'id', part)).execute();
    const cases = (value: (m: LinkedItemMeta) => unknown, type: string): RawBuilder<unknown> =>
      sql`case id ${sql.join(part.map((id) => sql`when ${id} then cast(${value(metas.get(id) as LinkedItemMeta)} as ${sql.raw(type)})`), sql` `)} end`;
    const own = kind.table === 'images'
      ? { width: cases((m) => m.width ?? null, 'integer'), height: cases((m) => m.height ?? null, 'integer') }
      : { file_meta: cases((m) => toJson(m.fileMeta ?? {}), 'text') };
    await asItemDb(trx).updateTable(kind.table)
      .set({ size: cases((m) => m.size, 'bigint'), mime: cases((m) => m.mime, 'text'), ...own } as never)
      .where(inValues(dialect, 'id', part)).execute();
    for (const row of before) {
      const delta = (metas.get(Number(row.id))?.size ?? 0) - Number(row.size);
      add(deltas.datasets, Number(row.dataset_id), delta);
      add(deltas.projects, Number(row.project_id), delta);
    }
  }
  await moveSizes(trx, 'datasets', deltas.datasets);
  await moveSizes(trx, 'projects', deltas.projects);
}

function add(map: Map<number, number>, id: number, delta: number): void {
  map.set(id, (map.get(id) ?? 0) + delta);
}

/** In id order, so concurrent writers lock counter rows in one order. */
async function moveSizes(trx: Kysely<CatalogDb>, table: 'datasets' | 'projects', deltas: Map<number, number>): Promise<void> {
  for (const [id, delta] of [...deltas].sort((a, b) => a[0] - b[0])) {
    if (delta === 0) continue;
    await trx.updateTable(table)
      .set((eb) => ({ size: eb('size', '+', delta), item_revision: eb('item_revision', '+', 1) }))
      .where('id', '=', id)
      .execute();
  }
}
