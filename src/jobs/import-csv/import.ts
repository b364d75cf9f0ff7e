import { guardFormula } from '../../core/text/csv.js';
import { constants, createReadStream, createWriteStream, openSync, type Stats, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { lstat, rename, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import {
  kindSpec,
  matchHeader,
  normalizeHeaderName,
  type HeaderMatch,
  type KindName,
} from '../../core/csv-import/kinds.js';
import type { DateFormat } from '../../core/csv-import/meta-export.js';
import type { StagedInput } from '../../db/repositories/import.repository.js';
import {
  CsvStructureError,
  MAX_ROW_BYTES,
  readHeader,
  readRecords,
  type CsvHeader,
} from '../../integrations/csv/records.js';
import {
  InputTooLargeError,
  lineOfOffset,
  spoolInput,
  sweepStaleSpools,
  type SpooledInput,
} from '../../integrations/csv/spool.js';
import { DataError, NoInputError, UnavailableError, UsageError } from '../../errors.js';
import type { UnitOfWork } from '../../db/unit-of-work.js';
import { type ImportCsvResult, type InputResult, listProblems, MAX_LISTED } from '../../core/reports/import-csv.js';
import type { BlobStore } from '../../integrations/storage/blob-store.js';
import type { JobDeps } from '../../runtime/job-deps.js';

export interface ImportCsvOptions {
  kind: KindName | undefined;
  skipInvalid: boolean;
  rejects: string | undefined;
  /** `--force`: an existing regular --rejects file may be overwritten. */
  force: boolean;
  /** File paths; `-` is standard input. */
  inputs: string[];
  /** `--map`: header names (normalized) → contract columns. */
  renames: Map<string, string>;
  dateFormat: DateFormat | null;
  /** `--decimal-comma`: numbers written 1.234,56 (a comma before the decimals, points between thousands). */
  decimalComma: boolean;
  /** `--client`: the client of campaigns found or created by a metrics file. */
  client: string | null;
}

/** Header fields beyond this are not a CSV kind: the staging table would pass PostgreSQL's 1,600 columns. */
const MAX_HEADER_FIELDS = 1000;

/** JobDeps, where `-` is read from, and the blob store the inputs are archived in (opened when first needed). */
export interface ImportCsvDeps extends JobDeps {
  stdin: Readable;
  openStore(): Promise<BlobStore>;
}

type ImportContext = ImportCsvDeps & { options: ImportCsvOptions };

/** One input after its bytes are on local disk and its header is understood. */
interface PreparedInput {
  name: string;
  spooled: SpooledInput;
  header: CsvHeader;
  staged: StagedInput;
}

/** Thrown inside the transaction to roll back a dry run after all the work is done. */
class DryRunRollback extends Error {
  constructor(readonly results: InputResult[]) {
    super('dry run');
  }
}

/**
 * The input's bytes. A FIFO is opened without blocking and read through the event loop: a blocking open() of a
 * FIFO nobody writes to would hold a thread forever (the run, its lock and even process exit wait on it), where this
 * waits for a writer and ends at once on a signal.
 */
function openInput(name: string, stdin: Readable): Readable {
  if (name === '-') {
    if ((stdin as { isTTY?: boolean }).isTTY)
      throw new UsageError('no input: name a CSV file, or pipe one in (cat file.csv | bin/import-csv)');
    return stdin;
  }
  if (statSync(name).isFIFO()) {
    const fd = openSync(name, constants.O_RDONLY | constants.O_NONBLOCK);
    return new Socket({ fd, readable: true, writable: false });
  }
  return createReadStream(name, { highWaterMark: 1 << 20 });
}

async function prepareInput(ctx: ImportContext, name: string): Promise<PreparedInput> {
  const { options } = ctx;
  const { kind } = options;
  let spooled: SpooledInput;
  const maxBytes = ctx.config.importMaxInputMb * 1024 * 1024;
  try {
    spooled = await spoolInput(() => openInput(name, ctx.stdin), { signal: ctx.signal, maxBytes });
  } catch (error) {
    if (error instanceof InputTooLargeError) {
      throw new DataError(
        `${name === '-' ? 'standard input' : name} is larger than ` +
          `IMPORT_MAX_INPUT_MB (${ctx.config.importMaxInputMb} MiB); ` +
          `nothing was imported. Split the file, or raise ` +
          `IMPORT_MAX_INPUT_MB if it really is one input.`,
        { cause: error },
      );
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : 'permission denied';
      throw new NoInputError(`cannot read ${name}: ${why}; nothing was imported`, { cause: error });
    }
    throw error;
  }
  try {
    const label = name === '-' ? 'standard input' : name;
    if (spooled.utf16) {
      throw new DataError(
        `${label} is UTF-16 text (Excel's "Unicode Text"), not UTF-8; ` +
          `nothing was imported. Save it as "CSV UTF-8 (Comma delimited)", ` +
          `or convert it: iconv -f UTF-16 -t ` +
          `UTF-8 ${name === '-' ? 'in.csv' : name} > utf8.csv`,
      );
    }
    if (spooled.invalidUtf8At >= 0) {
      const line = await lineOfOffset(spooled.path, spooled.invalidUtf8At);
      throw new DataError(
        `${label} is not UTF-8: line ${line} holds a byte that is not ` +
          `UTF-8 (offset ${spooled.invalidUtf8At}); nothing was imported, ` +
          `so nothing is stored garbled. Save the file as "CSV UTF-8", or ` +
          `convert it, e.g. iconv -f WINDOWS-1252 -t ` +
          `UTF-8 ${name === '-' ? 'in.csv' : name} > utf8.csv`,
      );
    }
    let header: CsvHeader | null;
    try {
      header = await readHeader(spooled.path);
    } catch (error) {
      if (error instanceof CsvStructureError)
        throw new DataError(`${label}: ${error.message}; nothing was imported`, { cause: error });
      throw error;
    }
    if (header === null)
      throw new DataError(
        `${label} is empty: expected a header row naming the columns, then one row per record; nothing was imported`,
      );
    // Each field becomes a column of the staging table, and PostgreSQL allows 1,600: no kind comes anywhere near.
    if (header.fields.length > MAX_HEADER_FIELDS) {
      throw new DataError(
        `${label}: the header has ${header.fields.length} fields, more ` +
          `than the ${MAX_HEADER_FIELDS} import-csv reads (a kind has at ` +
          `most a dozen columns): this is not one of the CSV kinds; ` +
          `nothing was imported`,
      );
    }
    const names = new Set(header.fields.map(normalizeHeaderName));
    const unknown = [...options.renames.keys()].filter((h) => !names.has(h));
    if (unknown.length > 0) {
      throw new UsageError(
        `${label}: --map ` +
          `names ${unknown.map((u) => `"${u}"`).join(', ')}, which the ` +
          `header does not have; nothing was imported`,
      );
    }
    const matched = matchHeader(header.fields, kind, options.renames);
    if (!matched.ok) {
      const Err = matched.failure === 'usage' ? UsageError : DataError;
      throw new Err(`${label}: ${matched.message}; nothing was imported`, { problems: matched.problems });
    }
    if (options.client !== null && matched.match.kind !== 'metrics') {
      throw new UsageError(
        `${label}: --client applies to metrics files (campaigns found by ` +
          `name, campaigns created), and this is a ${matched.match.kind} ` +
          `file; nothing was imported. Give clients in a client_id column instead.`,
      );
    }
    const staged = {
      spec: kindSpec(matched.match.kind),
      match: matched.match,
      width: header.fields.length,
      dateFormat: options.dateFormat,
      decimalComma: options.decimalComma,
      client: options.client,
    };
    return { name: label, spooled, header, staged };
  } catch (error) {
    await spooled.remove();
    throw error;
  }
}

/**
 * What may be at `--rejects PATH`: nothing yet, or a regular file the operator said to overwrite (--force). Never a
 * symbolic link (it would be followed or replaced), a device (as root, renaming over /dev/full replaces the device),
 * a FIFO or a folder.
 */
export async function checkRejectsPath(path: string, force: boolean): Promise<void> {
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UsageError(
      `--rejects ${path}: cannot check the path ` +
        `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        `choose a new file in a folder you can write to`,
      { cause: error },
    );
  }
  const what = st.isSymbolicLink()
    ? 'a symbolic link'
    : st.isDirectory()
      ? 'a folder'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isSocket()
          ? 'a socket'
          : st.isFile()
            ? null
            : 'a device';
  if (what !== null)
    throw new UsageError(`--rejects ${path} is ${what}: refusing to write through or replace it; name a new file`);
  if (!force)
    throw new UsageError(`--rejects ${path} already exists: pass --force to overwrite it, or name a new file`);
}

export { guardFormula };

async function writeRejects(
  path: string,
  force: boolean,
  prepared: PreparedInput,
  rows: AsyncIterable<{ fields: string[]; reasons: string }>,
): Promise<void> {
  // Written next to the target under a name no one else can have chosen (created exclusively: a planted symlink is
  // not followed), checked again, then renamed over it.
  const temporary = `${path}.partial-${randomBytes(6).toString('hex')}`;
  // The header row is the file's own text too: a column named "=HYPERLINK(…)" is defused like any cell.
  const out = stringify({ header: true, columns: [...prepared.header.fields.map(guardFormula), 'reason'] });
  async function* records(): AsyncGenerator<string[]> {
    for await (const r of rows) yield [...r.fields.map(guardFormula), r.reasons];
  }
  try {
    await pipeline(records(), out, createWriteStream(temporary, { flags: 'wx', mode: 0o600 }));
    await checkRejectsPath(path, force);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof UsageError) throw error;
    // Only the file system's errors are the path's fault; a failed query is reported as itself.
    if ((error as NodeJS.ErrnoException).syscall === undefined) throw error;
    throw new UsageError(
      `--rejects ${path}: cannot write the file ` +
        `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        `choose a path in a folder you can write to`,
      { cause: error },
    );
  }
}

async function importInput(ctx: ImportContext, work: UnitOfWork, input: PreparedInput): Promise<InputResult> {
  const { trx } = work;
  const repo = await import('../../db/repositories/import.repository.js');
  const { spooled, header, staged } = input;
  let mark = Date.now();
  const step = (what: string): void => {
    ctx.logger.debug(`${input.name}: ${what} in ${Date.now() - mark} ms`);
    mark = Date.now();
  };
  await repo.createStaging(trx, staged.width, header.lines + 1);
  // PostgreSQL's COPY reads CSV five to ten times faster than csv-parse here,
  // but it reads a stray quote differently and numbers rows, not lines: use it
  // only on input without quotes (each line is then one row) and without
  // over-long lines (csv-parse flags those row by row).
  let parser: InputResult['parser'] = 'csv-parse';
  if (spooled.lastQuoteAt < header.end && !spooled.hasCopyEndMarker && spooled.maxLineBytes <= MAX_ROW_BYTES) {
    await repo.savepoint(trx, 'import_copy');
    try {
      await repo.copyCsvBody(
        work,
        spooled.path,
        { start: header.end, end: spooled.contentEnd, lineEnd: header.lineEnd },
        staged.width,
      );
      parser = 'copy';
    } catch (error) {
      // Ragged rows, mixed line ends, a blank line or a NUL byte: csv-parse reads the file and says which line.
      ctx.logger.debug(`COPY could not read ${input.name} (${(error as Error).message}); reading it with csv-parse`);
      await repo.rollbackToSavepoint(trx, 'import_copy');
    }
  }
  if (parser === 'csv-parse') await repo.copyRecords(work, readRecords(spooled.path, staged.width), staged.width);
  step(`staged (${parser})`);
  ctx.throwIfInterrupted();

  const outcome = await repo.checkStagedRows(trx, staged);
  step('checked');
  const report = await repo.reportProblems(trx, MAX_LISTED);
  const blank = await repo.countBlankRows(trx, staged.width);
  // A dry run writes nothing, the rejects file included.
  if (report.problems > 0 && ctx.options.rejects && !ctx.dryRun)
    await writeRejects(ctx.options.rejects, ctx.options.force, input, repo.readRejectedRows(trx, staged.width));
  step('reported');
  ctx.throwIfInterrupted();
  const counts = await repo.writeStagedRows(trx, staged, ctx.clock.now());
  step('written');
  counts.rejected = report.rejectedRows;
  counts.blank = blank;
  counts.totalsSkipped = outcome.totalsSkipped;
  counts.summedRows = outcome.summedRows;
  counts.summedInto = outcome.summedInto;
  counts.rows = counts.inserted + counts.updated + counts.unchanged + counts.rejected;
  await repo.dropStaging(trx);
  return {
    name: input.name,
    kind: staged.spec.name,
    notes: readingNotes(staged.match),
    counts,
    ignoredColumns: staged.match.ignored,
    sha256: spooled.sha256,
    bytes: spooled.size,
    archiveKey: null,
    parser,
    problems: report.first,
    problemCount: report.problems,
  };
}

/**
 * How a metrics file was read, where it differs from the contract's plain layout: said once per file, in the summary.
 */
function readingNotes(m: HeaderMatch): string[] {
  const notes: string[] = [];
  if (m.keyedByName) {
    notes.push(
      'campaigns found by name (the file has no Campaign ID column); ' +
        'for exact keys add it in Ads Manager: Columns → Customize → Campaign ID',
    );
  }
  if (m.kind === 'metrics' && !m.columns.has('total_leads') && m.leadResults === undefined) {
    notes.push(
      m.unlabelledResults
        ? 'Results without a Result indicator column are not read as leads ' +
            "(add Result indicator, or --map 'Results=total_leads' if every " +
            'result is a lead): campaigns with no lead counts are not scored ' +
            'on leads (NO_LEAD_DATA)'
        : 'no lead column (Leads, or Results with a lead Result ' +
            'indicator): total_leads left empty, and campaigns with no lead ' +
            'counts are not scored on leads (NO_LEAD_DATA)',
    );
  }
  if (
    m.kind === 'metrics' &&
    m.meta &&
    !m.columns.has('qualified_leads') &&
    (m.columns.has('total_leads') || m.leadResults !== undefined)
  ) {
    notes.push(
      'no qualified leads (Ads Manager does not know which leads ' +
        'qualified): these campaigns are NO_QUALIFIED_DATA, never read as zero qualified; they are judged on ' +
        'cost per lead when target_cpl is set for their currency, and not judged otherwise, until ' +
        'qualification comes from the CRM (a qualified_leads column, or leads and lead-status imports)',
    );
  }
  if (m.currency !== undefined) notes.push(`amounts in ${m.currency}`);
  if (m.clicksAreAllClicks)
    notes.push(
      'clicks from Clicks (all), as there is no Link clicks column: ' +
        'add Link clicks to the export for the CTR the API path gives',
    );
  return notes;
}

/**
 * Imports options.inputs (files, or `-` for deps.stdin) in one transaction: all rows or none, upserted on their
 * keys; with options.skipInvalid the valid rows, the others written to options.rejects. Each input's bytes are
 * archived through deps.openStore before the commit. With deps.dryRun everything is checked and rolled back.
 */
export async function importCsv(deps: ImportCsvDeps, options: ImportCsvOptions): Promise<ImportCsvResult> {
  const ctx: ImportContext = { ...deps, options };
  const prepared: PreparedInput[] = [];
  // Before any work: a run must not spend an hour to be refused its rejects file.
  if (options.rejects) await checkRejectsPath(options.rejects, options.force);
  if (!ctx.dryRun) {
    // File ages are real time, whatever clock the run was given.
    const swept = await sweepStaleSpools(new Date(Date.now() - 86_400_000));
    if (swept > 0)
      ctx.logger.info(
        `removed ${swept} temporary input ` +
          `cop${swept === 1 ? 'y' : 'ies'} (leadsmart-import-*) that ` +
          `killed imports left behind`,
      );
  }
  try {
    for (const name of options.inputs) prepared.push(await prepareInput(ctx, name));
    const runDate = ctx.clock.now().toISOString().slice(0, 10);
    let results: InputResult[];
    try {
      results = await ctx.transaction(async (work) => {
        const out: InputResult[] = [];
        for (const input of prepared) {
          out.push(await importInput(ctx, work, input));
          ctx.throwIfInterrupted();
        }
        const problems = out.reduce((n, r) => n + r.problemCount, 0);
        const written = out.reduce((n, r) => n + r.counts.inserted + r.counts.updated + r.counts.unchanged, 0);
        const badRows = out.reduce((n, r) => n + r.counts.rejected, 0);
        if (problems > 0 && !options.skipInvalid) {
          throw new DataError(
            `${problems} problem${problems === 1 ? '' : 's'} in ${badRows} ` +
              `row${badRows === 1 ? '' : 's'}; nothing was imported (fix the ` +
              `rows, or use --skip-invalid to import the valid ` +
              `ones${options.rejects && !ctx.dryRun ? `; every invalid row is in ${options.rejects}` : ''})`,
            { problems: listProblems(out) },
          );
        }
        if (problems > 0 && written === 0) {
          throw new DataError(
            `every row was invalid (${problems} problem${problems === 1 ? '' : 's'}); nothing was imported`,
            { problems: listProblems(out) },
          );
        }
        if (ctx.dryRun) throw new DryRunRollback(out);
        // Archived before COMMIT: every committed import has its raw bytes in the blob store.
        let store: BlobStore | undefined;
        for (const [i, input] of prepared.entries()) {
          const key = `imports/${runDate}/${input.spooled.sha256}.csv`;
          try {
            store ??= await deps.openStore();
            if (!(await store.exists(key)))
              await store.put(key, createReadStream(input.spooled.path), { contentType: 'text/csv' });
          } catch (error) {
            throw new UnavailableError(
              `cannot archive ${input.name} to the blob store ` +
                `(${ctx.redact(ctx.config.blobUrl)}/${key}): ${(error as Error).message}; ` +
                `nothing was imported. Check BLOB_URL and access to it, then re-run.`,
              { cause: error },
            );
          }
          out[i]!.archiveKey = key;
        }
        return out;
      });
    } catch (error) {
      if (error instanceof DryRunRollback) results = error.results;
      else throw error;
    }
    const skipped = results.reduce((n, r) => n + r.problemCount, 0);
    if (skipped > 0) {
      const where = options.rejects
        ? ctx.dryRun
          ? `; a real run would write them to ${options.rejects}`
          : `, written to ${options.rejects}`
        : '';
      ctx.logger.warn(`skipped ${results.reduce((n, r) => n + r.counts.rejected, 0)} invalid row(s)${where}`, {
        problems: listProblems(results),
      });
    }
    return {
      dryRun: deps.dryRun,
      inputs: results,
      rejectsFile: skipped > 0 && !deps.dryRun ? (options.rejects ?? null) : null,
    };
  } finally {
    await Promise.all(prepared.map((p) => p.spooled.remove()));
  }
}
