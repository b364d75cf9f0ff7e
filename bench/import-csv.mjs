// make bench: import-csv against `psql \copy` of the same rows into the same
// table, in the same run, on a throwaway durable cluster (fsync on). Prints a
// Markdown block to paste into bench/RESULTS.md.
//
// Rows: BENCH_IMPORT_ROWS (default 1,000,000) metrics rows, ~40 MB: 2,740
// campaigns × 365 days, in the column order of the table. A smaller file
// (a quarter) shows whether peak memory grows with the file; a quoted copy
// of the big file shows the csv-parse path.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { median, ROOT, startCluster } from './cluster.mjs';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const CAMPAIGNS = 2740;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Input files and the blob store; the cluster has a folder of its own (bench/cluster.mjs).
const dir = mkdtempSync(join(tmpdir(), 'leadsmart-bench-import-'));
const cluster = startCluster('leadsmart-bench-import-pg-');
const url = cluster.url('bench');
const psql = (args) => cluster.psql('bench', args);
const lines = [];
const say = (s) => {
  console.log(s);
  lines.push(s);
};

async function writeMetrics(path, rows, quoted) {
  const out = createWriteStream(path);
  const q = (s) => (quoted ? `"${s}"` : s);
  out.write(`${q('campaign_id')},${q('date')},impressions,clicks,spend,total_leads,qualified_leads\n`);
  const days = Math.ceil(rows / CAMPAIGNS);
  let n = 0;
  let buf = '';
  for (let c = 0; c < CAMPAIGNS && n < rows; c++) {
    for (let d = 0; d < days && n < rows; d++, n++) {
      const date = new Date(Date.UTC(2024, 10, 1) + d * 86_400_000).toISOString().slice(0, 10);
      const imp = 1000 + ((c * 7 + d * 13) % 5000);
      const clk = (imp * 3) % 97;
      buf +=
        `${q(`cmp-${String(c).padStart(6, '0')}`)},` +
        `${q(date)},${imp},${clk},${(imp / 37).toFixed(2)},` +
        `${clk % 9},${clk % 4}\n`;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, 'drain');
        buf = '';
      }
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

/**
 * An Ads Manager export as analysts make it: per ad (4 ads a campaign and day), keyed by campaign name, a totals row
 * first.
 */
async function writeMetaAdExport(path, rows) {
  const out = createWriteStream(path);
  out.write(
    'Reporting starts,Reporting ends,Campaign name,Ad ' +
      'name,Day,Amount spent (USD),Impressions,Link ' +
      'clicks,Results,Result indicator\n',
  );
  out.write('2024-11-01,2025-10-31,,,,1,1,1,1,\n');
  const perDay = 4;
  const days = Math.ceil(rows / CAMPAIGNS / perDay);
  let n = 0;
  let buf = '';
  for (let c = 0; c < CAMPAIGNS && n < rows; c++) {
    for (let d = 0; d < days && n < rows; d++) {
      const date = new Date(Date.UTC(2024, 10, 1) + d * 86_400_000).toISOString().slice(0, 10);
      for (let a = 0; a < perDay && n < rows; a++, n++) {
        const imp = 250 + ((c * 7 + d * 13 + a) % 1250);
        buf +=
          `2024-11-01,2025-10-31,Campaign ` +
          `${String(c).padStart(6, '0')},Ad ${a},${date},` +
          `${(imp / 37).toFixed(2)},${imp},${(imp * 3) % 23},` +
          `${a % 3},${a % 2 ? 'actions:lead' : 'actions:onsite_conversion.lead_grouped'}\n`;
        if (buf.length > 1 << 20) {
          if (!out.write(buf)) await once(out, 'drain');
          buf = '';
        }
      }
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

function timed(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** bin/import-csv as cron or an analyst runs it; wall time and peak RSS. */
function importFile(path) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', join(ROOT, 'bin', 'import-csv'), '--json', path], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      BLOB_URL: `file://${join(dir, 'blobs')}`,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
    },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`import-csv exited ${r.status}: ${r.stderr.slice(-3000)}`);
  const doc = JSON.parse(r.stdout);
  return { ms, rssMb: Number(r.stderr.trim().split('\n').at(-1)) / 1024, doc };
}

try {
  cluster.createMigrated('bench');
  psql([
    '-c',
    `INSERT INTO campaigns (campaign_id) SELECT 'cmp-' || ` +
      `lpad(g::text, 6, '0') FROM generate_series(0, ${CAMPAIGNS - 1}) g`,
  ]);
  const big = join(dir, 'metrics.csv');
  const quarter = join(dir, 'metrics-quarter.csv');
  const quoted = join(dir, 'metrics-quoted.csv');
  const quotedQuarter = join(dir, 'metrics-quoted-quarter.csv');
  await writeMetrics(big, ROWS, false);
  await writeMetrics(quarter, Math.floor(ROWS / 4), false);
  await writeMetrics(quoted, ROWS, true);
  await writeMetrics(quotedQuarter, Math.floor(ROWS / 4), true);
  const mb = (p) => (statSync(p).size / 1e6).toFixed(1);

  const copy = [];
  const fresh = [];
  const again = [];
  let rss = 0;
  for (let i = 0; i < ROUNDS; i++) {
    psql(['-c', 'TRUNCATE campaign_metrics']);
    copy.push(
      timed(() =>
        psql([
          '-c',
          `\\copy campaign_metrics (campaign_id, date, impressions, ` +
            `clicks, spend, total_leads, qualified_leads) FROM '${big}' WITH ` +
            `(FORMAT csv, HEADER true)`,
        ]),
      ),
    );
    psql(['-c', 'TRUNCATE campaign_metrics']);
    const f = importFile(big);
    if (f.doc.inserted !== ROWS) throw new Error(`fresh import inserted ${f.doc.inserted}, expected ${ROWS}`);
    fresh.push(f.ms);
    const a = importFile(big);
    if (a.doc.unchanged !== ROWS) throw new Error(`re-import reported ${a.doc.unchanged} unchanged, expected ${ROWS}`);
    again.push(a.ms);
    rss = Math.max(rss, f.rssMb, a.rssMb);
    console.error(
      `round ${i + 1}: \\copy ${copy.at(-1).toFixed(0)} ms, fresh ${f.ms.toFixed(0)} ms, again ${a.ms.toFixed(0)} ms`,
    );
  }
  psql(['-c', 'TRUNCATE campaign_metrics']);
  const small = importFile(quarter);
  psql(['-c', 'TRUNCATE campaign_metrics']);
  const qSmall = importFile(quotedQuarter);
  psql(['-c', 'TRUNCATE campaign_metrics']);
  const q = importFile(quoted);
  if (q.doc.inputs[0].parser !== 'csv-parse' || q.doc.inserted !== ROWS)
    throw new Error('the quoted file did not go through csv-parse');
  // An ad-level Ads Manager export of the same number of rows, keyed by name: summed into a quarter as many campaign
  // days.
  const meta = join(dir, 'meta-ads.csv');
  await writeMetaAdExport(meta, ROWS);
  const m = importFile(meta);
  if (m.doc.inputs[0].summed_rows !== ROWS || m.doc.inputs[0].totals_skipped !== 1)
    throw new Error(`the Meta export was not summed as expected: ${JSON.stringify(m.doc.inputs[0]).slice(0, 300)}`);

  const base = median(copy);
  say(
    `Machine: ${cpus().length} ` +
      `× ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} ` +
      `GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  say('');
  say(
    `| ${ROWS.toLocaleString('en')} metrics rows (${mb(big)} MB) | ` +
      `median of ${ROUNDS} (ms) | ratio to \`psql \\copy\` |`,
  );
  say('|---|---:|---:|');
  say(
    `| baseline: \`psql \\copy\` into campaign_metrics (empty, same ` +
      `indexes and foreign key) | ${base.toFixed(0)} | 1.00× |`,
  );
  say(
    `| bin/import-csv, fresh (validated, upserted, archived, ` +
      `committed) | ${median(fresh).toFixed(0)} ` +
      `| ${(median(fresh) / base).toFixed(2)}× |`,
  );
  say(
    `| bin/import-csv, the unchanged file again ` +
      `| ${median(again).toFixed(0)} | ${(median(again) / base).toFixed(2)}× |`,
  );
  say(
    `| bin/import-csv, fresh, every id and date quoted (csv-parse ` +
      `path), one run | ${q.ms.toFixed(0)} | ${(q.ms / base).toFixed(2)}× |`,
  );
  say(
    `| bin/import-csv, an ad-level Ads Manager export ` +
      `of ${ROWS.toLocaleString('en')} rows (${mb(meta)} MB) keyed by ` +
      `campaign name, summed ` +
      `into ${m.doc.inputs[0].summed_into.toLocaleString('en')} ` +
      `campaign days, one run | ${m.ms.toFixed(0)} ` +
      `| ${(m.ms / base).toFixed(2)}× |`,
  );
  say('');
  say(
    `Peak RSS of bin/import-csv: ${rss.toFixed(0)} MB ` +
      `at ${ROWS.toLocaleString('en')} rows, ${small.rssMb.toFixed(0)} ` +
      `MB at ${Math.floor(ROWS / 4).toLocaleString('en')} rows; ` +
      `through csv-parse ${q.rssMb.toFixed(0)} MB ` +
      `and ${qSmall.rssMb.toFixed(0)} MB; the Ads Manager ` +
      `export ${m.rssMb.toFixed(0)} MB.`,
  );
  say(
    'Times are wall-clock of the whole process (start-up, spooling, ' +
      'COPY, checks, upsert, archive, commit), from the benchmark.',
  );
} finally {
  cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
