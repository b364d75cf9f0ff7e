import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { defaultScoringConfig } from '../../src/core/scoring/index.js';
import { openScoringSource, type ScoringInput } from '../../src/db/repositories/scoring-inputs.js';
import { isConnectionError } from '../../src/db/connection-errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadSample } from '../helpers/run-job.js';

// The sample dataset's scoring date (see scripts/generate-sample-data.mjs).
const D = '2025-11-15';
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await loadSample(t.url);
});
afterAll(async () => {
  await t.drop();
});

async function readAll(
  chunkCampaigns: number,
): Promise<{ chunks: ScoringInput[][]; chunkCount: number; previous: unknown }> {
  const source = await openScoringSource(t, D, defaultScoringConfig(), chunkCampaigns);
  try {
    const chunks: ScoringInput[][] = [];
    for await (const c of source.chunks()) chunks.push(c);
    return { chunks, chunkCount: source.chunkCount, previous: source.previous };
  } finally {
    await source.close();
  }
}

/** The campaigns with a metrics row in the 30-day window, in the database's order. */
async function campaignsInWindow(): Promise<string[]> {
  const r = await sql<{ campaign_id: string }>`
    SELECT DISTINCT campaign_id FROM campaign_metrics WHERE date BETWEEN ${D}::date - 29 AND ${D}::date ORDER BY
      campaign_id`.execute(t.db);
  return r.rows.map((x) => x.campaign_id);
}

describe('reading the scoring inputs in chunks', () => {
  test(
    'every campaign with metrics in the window is read once, in ' +
      'campaign_id order, with the same facts whatever the chunk size',
    async () => {
      const expected = await campaignsInWindow();
      expect(expected.length).toBeGreaterThan(20);
      const whole = await readAll(1_000_000);
      expect(whole.chunkCount).toBe(1);
      expect(whole.chunks.flat().map((i) => i.facts.campaignId)).toEqual(expected);
      for (const size of [1, 2, 7]) {
        const chunked = await readAll(size);
        const total = (
          await t.db
            .selectFrom('campaigns')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n;
        expect({ size, chunkCount: chunked.chunkCount }).toEqual({ size, chunkCount: Math.ceil(Number(total) / size) });
        expect({ size, inputs: chunked.chunks.flat() }).toEqual({ size, inputs: whole.chunks.flat() });
        expect(chunked.previous).toEqual(whole.previous);
      }
    },
  );

  test(
    'all chunks see one snapshot: a change committed after the ' + 'source opened is not read, on either connection',
    async () => {
      const before = (await readAll(2)).chunks.flat();
      // The first and the last campaign with a row on D: their chunks are read on the two different connections.
      const onD = await sql<{ campaign_id: string; clicks: string | null }>`
      SELECT campaign_id, clicks::text AS clicks FROM campaign_metrics WHERE date = ${D}::date ORDER BY
        campaign_id`.execute(t.db);
      const changed = [onD.rows[0]!, onD.rows.at(-1)!];
      expect(changed[0]!.campaign_id).not.toBe(changed[1]!.campaign_id);
      const source = await openScoringSource(t, D, defaultScoringConfig(), 2);
      try {
        // Committed after the snapshot: a new campaign with metrics, and more clicks for the two campaigns.
        await t.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('campaigns')
            .values({ campaign_id: 'zz-late', campaign_name: 'Late', platform: 'facebook' })
            .execute();
          await trx
            .insertInto('campaign_metrics')
            .values({
              campaign_id: 'zz-late',
              date: D,
              impressions: 10,
              clicks: 1,
              spend: '5.00',
              total_leads: 1,
              qualified_leads: 1,
            })
            .execute();
          await trx
            .updateTable('campaign_metrics')
            .set({ clicks: 123_456 })
            .where(
              'campaign_id',
              'in',
              changed.map((c) => c.campaign_id),
            )
            .where('date', '=', D)
            .execute();
        });
        const during: ScoringInput[] = [];
        for await (const c of source.chunks()) during.push(...c);
        expect(during).toEqual(before);
        // A source opened now does see the change.
        const after = (await readAll(2)).chunks.flat();
        expect(after.map((i) => i.facts.campaignId)).toContain('zz-late');
        expect(after.find((i) => i.facts.campaignId === changed[0]!.campaign_id)!.facts.clicks).not.toBe(
          before.find((i) => i.facts.campaignId === changed[0]!.campaign_id)!.facts.clicks,
        );
      } finally {
        await source.close();
        await t.db.deleteFrom('campaign_metrics').where('campaign_id', '=', 'zz-late').execute();
        await t.db.deleteFrom('campaigns').where('campaign_id', '=', 'zz-late').execute();
        for (const c of changed) {
          await t.db
            .updateTable('campaign_metrics')
            .set({ clicks: c.clicks === null ? null : Number(c.clicks) })
            .where('campaign_id', '=', c.campaign_id)
            .where('date', '=', D)
            .execute();
        }
      }
      expect((await readAll(1_000_000)).chunks.flat()).toEqual(before);
    },
  );

  test(
    'a reading connection lost mid-run fails the iteration with an ' +
      'error classified as the database going away, and close() still returns',
    async () => {
      const source = await openScoringSource(t, D, defaultScoringConfig(), 1);
      const killer = new pg.Client({ connectionString: t.url });
      await killer.connect();
      try {
        // The two readers are the sessions of this database with an open transaction.
        const killed = await killer.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ` +
            `datname = current_database() AND pid <> pg_backend_pid() AND ` +
            `xact_start IS NOT NULL`,
        );
        expect(killed.rowCount).toBe(2);
        const read = async (): Promise<number> => {
          let n = 0;
          for await (const c of source.chunks()) n += c.length;
          return n;
        };
        // Which error arrives depends on who notices first (57P01, "Connection terminated", a write
        // EPIPE); each must be one the runner classifies as the database going away (exit 69).
        // (A socket error is an Error of Node's realm, not of Jest's: no toBeInstanceOf here.)
        const error = await read().then(
          () => 'no error',
          (e: unknown) => e,
        );
        expect(isConnectionError(error)).toBe(true);
      } finally {
        await killer.end();
        await source.close();
      }
      // The pool is still usable: broken clients were discarded, not returned.
      expect((await readAll(1_000_000)).chunks.flat().length).toBe((await campaignsInWindow()).length);
    },
  );

  test('chunks() can be iterated only once', async () => {
    const source = await openScoringSource(t, D, defaultScoringConfig(), 1_000_000);
    try {
      for await (const _ of source.chunks());
      await expect(source.chunks().next()).rejects.toThrow(/only once/);
    } finally {
      await source.close();
    }
  });
});
