import { type Kysely, sql } from 'kysely';
import type { Database } from '../tables.js';

/** A person who may sign in to status-server's pages (sql/012). */
export interface DashboardUser {
  username: string;
  passwordHash: string;
  /** null: agency-wide; otherwise the only clients this user sees. */
  clientIds: string[] | null;
  createdAt: Date;
  passwordChangedAt: Date;
}

export async function listUsers(db: Kysely<Database>): Promise<DashboardUser[]> {
  const rows = await db.selectFrom('dashboard_users').selectAll().orderBy('username').execute();
  return rows.map((r) => ({
    username: r.username,
    passwordHash: r.password_hash,
    clientIds: r.agency_wide ? null : r.client_ids,
    createdAt: r.created_at,
    passwordChangedAt: r.password_changed_at,
  }));
}

/** False when the name is taken, in any case: `Bob` beside `bob` would be two users one sign-in cannot tell apart. */
export async function addUser(
  db: Kysely<Database>,
  u: { username: string; passwordHash: string; clientIds: string[] | null },
): Promise<boolean> {
  const r = await sql`
    INSERT INTO dashboard_users (username, password_hash, agency_wide, client_ids)
    SELECT ${u.username}, ${u.passwordHash}, ${u.clientIds === null}, ${u.clientIds ?? []}::text[]
     WHERE NOT EXISTS (SELECT 1 FROM dashboard_users WHERE lower(username) = lower(${u.username}))
    ON CONFLICT (username) DO NOTHING`.execute(db);
  return Number(r.numAffectedRows ?? 0) === 1;
}

/** False when there is no such user. */
export async function removeUser(db: Kysely<Database>, username: string): Promise<boolean> {
  const r = await db.deleteFrom('dashboard_users').where('username', '=', username).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/** False when there is no such user. */
export async function setPassword(db: Kysely<Database>, username: string, passwordHash: string): Promise<boolean> {
  const r = await db
    .updateTable('dashboard_users')
    .set({ password_hash: passwordHash, password_changed_at: new Date() })
    .where('username', '=', username)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Of `clientIds`, those the clients table does not have. */
export async function unknownClients(db: Kysely<Database>, clientIds: readonly string[]): Promise<string[]> {
  if (clientIds.length === 0) return [];
  const known = new Set(
    (await db.selectFrom('clients').select('client_id').where('client_id', 'in', clientIds).execute()).map(
      (r) => r.client_id,
    ),
  );
  return clientIds.filter((c) => !known.has(c));
}
