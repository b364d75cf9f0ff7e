import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/tables.js';

/** A digest of everything an import can write, to prove a refused or failed run wrote nothing. */
export async function importSnapshot(db: Kysely<Database>): Promise<string> {
  const r = await sql<{ s: string }>`SELECT concat_ws('|',
      (SELECT md5(string_agg(c::text, ',' ORDER BY client_id)) FROM clients c),
      (SELECT md5(string_agg(c::text, ',' ORDER BY campaign_id)) FROM campaigns c),
      (SELECT md5(string_agg(m::text, ',' ORDER BY campaign_id, date)) FROM campaign_metrics m),
      (SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM campaign_leads l),
      (SELECT md5(string_agg(s::text, ',' ORDER BY lead_id, changed_at)) FROM lead_status_changes s)) AS s`.execute(db);
  return r.rows[0]!.s;
}
