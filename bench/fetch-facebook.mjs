// make bench: fetch-facebook against the stand-in Graph API on loopback (no
// latency), one ad account of 100 and of 1,000 campaigns × 28 days with
// delivery every day (28,000 insight rows at 1,000). Reports API calls and
// wall time of bin/fetch-facebook, and, in the same process, the calls of a
// design that asks insights once per campaign (GET /{campaign}/insights).
// Prints a Markdown block to paste into bench/RESULTS.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT, startCluster } from './cluster.mjs';

const { FakeGraphApi, generateAccount } = await import(join(ROOT, 'dist', 'dev', 'fake-graph-api.js'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// The blob store; the cluster has a folder of its own (bench/cluster.mjs).
const dir = mkdtempSync(join(tmpdir(), 'leadsmart-bench-fb-'));
const cluster = startCluster('leadsmart-bench-fb-pg-');
const url = cluster.url('bench');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const today = new Date().toISOString().slice(0, 10);
const say = (s) => console.log(s);

/** bin/fetch-facebook as cron runs it (async: the fake answers from this process). */
function fetchRun(graphUrl, args, extraEnv = {}) {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', join(ROOT, 'bin', 'fetch-facebook'), '--json', ...args], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: url,
        BLOB_URL: `file://${join(dir, 'blobs')}`,
        FB_ACCESS_TOKEN: 'BENCH-TOKEN',
        FB_AD_ACCOUNTS: 'act_1000000001',
        FB_GRAPH_URL: graphUrl,
        LOG_LEVEL: 'warn',
        ...extraEnv,
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) throw new Error(`fetch-facebook exited ${code}: ${err}`);
      done({
        ms: performance.now() - started,
        doc: JSON.parse(out),
        rssMb: Number(err.trim().split('\n').at(-1)) / 1024,
      });
    });
  });
}

/** The design to avoid: list the campaigns, then one insights request (and its pages) per campaign. */
async function perCampaignCalls(fake, campaigns) {
  fake.requests.length = 0;
  const get = async (u) => (await fetch(u, { headers: { authorization: 'Bearer BENCH-TOKEN' } })).json();
  const statuses = encodeURIComponent(JSON.stringify(['ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED']));
  let next = `${fake.url}/v25.0/act_1000000001/campaigns?limit=500&fields=id&effective_status=${statuses}`;
  const ids = [];
  while (next) {
    const page = await get(next);
    ids.push(...page.data.map((c) => c.id));
    next = page.paging?.next;
  }
  const since = new Date(Date.parse(`${today}T00:00:00Z`) - 27 * 86_400_000).toISOString().slice(0, 10);
  for (const id of ids) {
    const range = encodeURIComponent(JSON.stringify({ since, until: today }));
    let u = `${fake.url}/v25.0/${id}/insights?level=campaign&time_increment=1&limit=500&time_range=${range}`;
    while (u) {
      const page = await get(u);
      u = page.paging?.next;
    }
  }
  if (ids.length !== campaigns) throw new Error(`listed ${ids.length} campaigns, expected ${campaigns}`);
  return fake.requests.length;
}

try {
  cluster.createMigrated('bench');
  say(
    `### fetch-facebook ` +
      `(${new Date().toISOString().slice(0, 10)}, ${cpus().length} ` +
      `× ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} ` +
      `GiB, Node ${process.version})`,
  );
  say('');
  say(
    `One ad account, campaigns × 28 days with delivery every day, ` +
      `stand-in Graph API on loopback with no latency, page size 500, ` +
      `median of ${ROUNDS} runs (fresh database each time).`,
  );
  say('');
  say(
    '"requests" are HTTP round trips; "metered" are calls as Meta ' +
      'counts them against the rate limits (every request of a batch ' +
      'is one). "unbatched" is the same job with FB_BATCH_SIZE=1 (one ' +
      'GET per ad), run in the same process as the baseline for the leads.',
  );
  say('');
  say(
    '| campaigns | insight rows | requests, insights only ' +
      '(--no-leads) | requests of the per-campaign design | ratio | ' +
      'wall time --no-leads (ms) | with leads: requests / metered | ' +
      'wall time with leads (ms) | unbatched: requests | unbatched ' +
      'wall time (ms) | peak RSS (MB) |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  const truncate = () =>
    execFileSync(
      'psql',
      [
        '-X',
        '-q',
        '-d',
        url,
        '-c',
        'SET client_min_messages = warning; TRUNCATE fb_sync_state, ' +
          'campaign_leads, campaign_metrics, campaigns, clients CASCADE',
      ],
      { stdio: 'inherit' },
    );
  const latencyRows = [];
  for (const campaigns of [100, 1000]) {
    const fake = new FakeGraphApi({
      validTokens: ['BENCH-TOKEN'],
      accounts: [
        generateAccount({ id: '1000000001', campaigns, days: 28, until: today, timezone: 'UTC', deliveryRate: 1 }),
      ],
    });
    await fake.start();
    try {
      const naive = await perCampaignCalls(fake, campaigns);
      const noLeads = [];
      const withLeads = [];
      const unbatched = [];
      let calls = 0;
      let leadCalls = '';
      let unbatchedCalls = 0;
      let rows = 0;
      let rss = 0;
      for (let i = 0; i < ROUNDS; i++) {
        truncate();
        const a = await fetchRun(fake.url, ['--no-leads']);
        noLeads.push(a.ms);
        calls = a.doc.calls;
        rows = a.doc.accounts[0].rows.insights;
        truncate();
        const b = await fetchRun(fake.url, []);
        withLeads.push(b.ms);
        leadCalls = `${b.doc.calls} / ${b.doc.metered_calls}`;
        truncate();
        const c = await fetchRun(fake.url, [], { FB_BATCH_SIZE: '1' });
        unbatched.push(c.ms);
        unbatchedCalls = c.doc.calls;
        if (c.doc.accounts[0].rows.leads !== b.doc.accounts[0].rows.leads)
          throw new Error('batched and unbatched runs stored different leads');
        rss = Math.max(rss, a.rssMb, b.rssMb, c.rssMb);
      }
      say(
        `| ${campaigns} | ${rows.toLocaleString('en')} | ${calls} ` +
          `| ${naive} | ${((calls / naive) * 100).toFixed(1)} % ` +
          `| ${median(noLeads).toFixed(0)} | ${leadCalls} ` +
          `| ${median(withLeads).toFixed(0)} | ${unbatchedCalls} ` +
          `| ${median(unbatched).toFixed(0)} | ${rss.toFixed(0)} |`,
      );
      if (campaigns === 1000) {
        // What the round trips cost when each answer takes as long as a real one: 100 ms per request.
        fake.setLatency(100);
        truncate();
        const b = await fetchRun(fake.url, []);
        truncate();
        const c = await fetchRun(fake.url, [], { FB_BATCH_SIZE: '1' });
        latencyRows.push(
          `| ${campaigns} | ${b.doc.calls} | ${(b.ms / 1000).toFixed(1)} ` +
            `| ${c.doc.calls} | ${(c.ms / 1000).toFixed(1)} ` +
            `| ${(c.ms / b.ms).toFixed(1)}× |`,
        );
        fake.setLatency(0);
      }
    } finally {
      await fake.stop();
    }
  }
  say('');
  say('With 100 ms added to every answer of the stand-in (one run each, leads included):');
  say('');
  say('| campaigns | batched: requests | wall time (s) | unbatched: requests | wall time (s) | unbatched ÷ batched |');
  say('|---|---|---|---|---|---|');
  for (const r of latencyRows) say(r);
} finally {
  cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
