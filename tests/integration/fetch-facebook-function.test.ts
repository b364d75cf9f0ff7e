import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBlobStore } from '../../src/integrations/storage/blob-store.js';
import { type FetchFacebookOptions, fetchFacebook, graphSessions } from '../../src/jobs/fetch-facebook/fetch.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { FakeGraphApi, generateAccount } from '../helpers/fake-graph-api.js';
import { testJobDeps } from '../helpers/job-deps.js';

// fetchFacebook(deps, options) called as a function, with the blob store and the Graph API sessions passed in.
// The process around it (flags, exit codes, signals, every API fault) is tested in fetch-facebook.test.ts.
const A = '1111111111';
let t: TestDatabase;
let fake: FakeGraphApi;
let blobs: string;
const settings = () => ({
  FB_ACCESS_TOKEN: 'TEST-TOKEN',
  FB_AD_ACCOUNTS: `act_${A}=acme`,
  FB_GRAPH_URL: fake.url,
  FB_RETRY_BASE_MS: '5',
  FB_REQUEST_TIMEOUT_SECONDS: '2',
});
const options = (deps: { config: { fbAdAccounts: FetchFacebookOptions['accounts'] } }): FetchFacebookOptions => ({
  accounts: deps.config.fbAdAccounts,
  since: null,
  until: null,
  timeoutMs: 60_000,
  leads: true,
});
const campaigns = async () =>
  (await t.db.selectFrom('campaigns').select('campaign_id').where('account_id', '=', `act_${A}`).execute()).length;

beforeAll(async () => {
  t = await createTestDatabase();
  fake = new FakeGraphApi({
    accounts: [generateAccount({ id: A, campaigns: 4, days: 35, until: '2025-11-16', seed: 3 })],
  });
  await fake.start();
  blobs = mkdtempSync(join(tmpdir(), 'leadsmart-fb-fn-'));
});
afterAll(async () => {
  await fake.stop();
  await t.drop();
  rmSync(blobs, { recursive: true, force: true });
});

describe('fetchFacebook', () => {
  test('a dry run reads the account through the Graph sessions it is given and writes nothing', async () => {
    const deps = await testJobDeps(t, { env: settings(), dryRun: true });
    const before = await campaigns();
    const result = await fetchFacebook({ ...deps, store: null, graph: graphSessions(deps.config) }, options(deps));
    expect(result.dryRun).toBe(true);
    expect(result.accounts).toHaveLength(1);
    expect(result.accounts[0]).toMatchObject({ account: `act_${A}`, outcome: 'succeeded', written: null });
    expect(result.accounts[0]!.rows.campaigns).toBe(4);
    expect(await campaigns()).toBe(before);
  });

  test('a run writes the account and archives the raw answers in the blob store it is given', async () => {
    const deps = await testJobDeps(t, { env: settings() });
    const store = await openBlobStore(`file://${blobs}`);
    const result = await fetchFacebook({ ...deps, store, graph: graphSessions(deps.config) }, options(deps));
    expect(result.accounts[0]).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    const written = result.accounts[0]!.written!.campaigns;
    expect(written.inserted + written.updated + written.unchanged).toBe(4);
    expect(await campaigns()).toBe(4);
    const archived = readdirSync(join(blobs, 'facebook'), { recursive: true, encoding: 'utf8' });
    expect(archived.filter((f) => f.endsWith('.json')).length).toBe(result.accounts[0]!.stats.calls);
  });
});
