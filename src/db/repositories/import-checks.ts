import { sql, type RawBuilder } from 'kysely';
import type { ColumnSpec } from '../../core/csv-import/kinds.js';
import { dateLayout, type DateFormat } from '../../core/csv-import/meta-export.js';

/**
 * The value rules of docs/csv-import.md as SQL over trimmed text
 * cells: one expression per column that yields `column: reason` or NULL,
 * and one that turns a valid cell into its typed value. They run inside
 * PostgreSQL because that is where the rows are: PostgreSQL parses the
 * CSV (COPY) five to ten times faster than csv-parse does on these machines.
 */

type Sql = RawBuilder<unknown>;

const DIGITS = sql.lit('0123456789');

/** `v` is a YYYY-MM-DD string of digits; true when it names a real day. */
function isCalendarDate(v: Sql): Sql {
  const month = sql`substr(${v}, 6, 2)`;
  const day = sql`substr(${v}, 9, 2)`;
  const year = sql`substr(${v}, 1, 4)::int`;
  return sql`(substr(${v}, 1, 4) <> '0000' AND ${month} BETWEEN '01' AND '12' AND ${day} >= '01' AND (${day} <= '28'
    OR ${day} <= CASE ${month}
      WHEN '02' THEN CASE WHEN (${year} % 4 = 0 AND ${year} % 100 <> 0) OR ${year} % 400 = 0 THEN '29' ELSE '28' END
      WHEN '04' THEN '30' WHEN '06' THEN '30' WHEN '09' THEN '30' WHEN '11' THEN '30' ELSE '31' END))`;
}

/** YYYY-MM-DD made of digits: the regex spelled out, about three times cheaper per row. */
function hasDateShape(v: Sql): Sql {
  return sql`(length(${v}) = 10 AND substr(${v}, 5, 1) = '-' AND substr(${v}, 8, 1) = '-'
              AND translate(${v}, ${DIGITS}, '') = '--')`;
}

const TIMESTAMP_PATTERN = sql.lit(
  '^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[Tt ' +
    ']([0-9]{2}):([0-9]{2})(?::([0-9]{2})(\\.[0-9]{1,9})?)?)?\\s*([Zz]|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?$',
);

function quoted(v: Sql, max = 60): Sql {
  return sql`'"' || left(${v}, ${sql.lit(max)}) || CASE WHEN length(${v}) > ${sql.lit(max)} THEN '…"' ELSE '"' END`;
}

/**
 * A date written in `format` as YYYY-MM-DD text (an ISO date stays as it is), or NULL when the
 * cell is in neither layout.
 */
function reformatDate(v: Sql, format: DateFormat): Sql {
  const { sep, dayFirst } = dateLayout(format);
  const s = sep === '.' ? '\\.' : sep;
  const m = sql`regexp_match(${v}, ${sql.lit(`^([0-9]{1,2})${s}([0-9]{1,2})${s}([0-9]{4})$`)})`;
  const [day, month] = dayFirst ? [1, 2] : [2, 1];
  return sql`CASE WHEN ${hasDateShape(v)} THEN ${v} ELSE (${m})[3] || '-' || lpad((${m})[${sql.lit(month)}], 2, '0')
    || '-' || lpad((${m})[${sql.lit(day)}], 2, '0') END`;
}

/** For a date that is not YYYY-MM-DD: the `--date-format` it is clearly written in, as advice ('' when none fits). */
function dateFormatHint(v: Sql): Sql {
  const slash = sql`regexp_match(${v}, '^([0-9]{1,2})/([0-9]{1,2})/[0-9]{4}$')`;
  return sql`CASE
    WHEN ${slash} IS NOT NULL THEN CASE
      WHEN (${slash})[1]::int > 12 THEN '; it is written DD/MM/YYYY: pass --date-format DD/MM/YYYY'
      WHEN (${slash})[2]::int > 12 THEN '; it is written MM/DD/YYYY: pass --date-format MM/DD/YYYY'
      ELSE '; day and month cannot be told apart: pass --date-format DD/MM/YYYY or --date-format MM/DD/YYYY' END
    WHEN ${v} ~ '^[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}$' THEN '; it is written DD-MM-YYYY: pass --date-format DD-MM-YYYY'
    WHEN ${v} ~ '^[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{4}$' THEN '; it is written DD.MM.YYYY: pass --date-format DD.MM.YYYY'
    ELSE '' END`;
}

/**
 * `column: reason` when the trimmed cell `v` breaks the column's rule, else NULL. `dateFormat` is `--date-format`, for
 * date columns.
 */
export function checkValue(c: ColumnSpec, v: Sql, dateFormat: DateFormat | null = null): Sql {
  const label = sql.lit(`${c.name}: `);
  const reason = (() => {
    switch (c.type) {
      case 'id':
        return sql`CASE WHEN strpos(${v}, '+') > 0 AND ${v} ~ '^[0-9](\\.[0-9]+)?[eE]\\+[0-9]+$'
          THEN 'looks like a number Excel shortened (' || ${quoted(v)} ||
            '): the real id is lost; export the file again and import it without opening it in Excel' END`;
      case 'text':
        return sql`NULL::text`;
      case 'count': {
        const digits = sql`ltrim(split_part(${v}, '.', 1), '0')`;
        const limit = c.int32
          ? sql`(length(${v}) < 10 OR length(${digits}) < 10 OR (length(${digits}) = 10 AND ${digits} <= '2147483647'))`
          : sql`(length(${v}) <= 18 OR length(${digits}) <= 18)`;
        // 17.0 is a whole 17; 10.000 is not taken for ten: in a file from a decimal-comma locale it is ten thousand.
        return sql`CASE
          WHEN translate(${v}, ${DIGITS}, '') = '' OR (${v} ~ '^[0-9]+\\.0*$' AND ${v} !~ '^[0-9]{1,3}(\\.[0-9]{3})+$')
            THEN CASE WHEN ${limit} THEN NULL ELSE
            'too large: ' || ${quoted(v)} END
          WHEN ${v} ~ '^-[0-9]*\\.?[0-9]+$' THEN 'must not be negative: ' || ${v}
          WHEN ${v} ~ '^[0-9]{1,3}(\\.[0-9]{3})+$' THEN 'not a plain number: ' || ${quoted(v)} ||
            ' (a count is whole: if the points separate thousands, pass --decimal-comma or write ' ||
            replace(${v}, '.', '') || ')'
          WHEN ${v} ~ '^[0-9]*\\.[0-9]+$' THEN 'must be a whole number: ' || ${v}
          WHEN ${v} ~ '^[0-9]{1,3}(,[0-9]{3})+$' THEN 'not a plain number: ' || ${quoted(v)} ||
            ' (leave out the thousands separators)'
          ELSE 'not a number: ' || ${quoted(v)} END`;
      }
      case 'money':
        return sql`CASE
          WHEN translate(${v}, ${DIGITS}, '') IN ('', '.') AND left(${v}, 1) <> '.' AND right(${v}, 1) <> '.' THEN
            ${
              c.positive
                ? sql`CASE WHEN translate(${v}, '0.', '') = '' THEN 'must be greater than 0: ' || ${v}
              END`
                : sql`NULL::text`
            }
          WHEN ${v} ~ '^-[0-9]*\\.?[0-9]+$' THEN 'must not be negative: ' || ${v}
          WHEN ${v} ~ '^[0-9]{1,3}(,[0-9]{3})+(\\.[0-9]+)?$' THEN 'not a plain number: ' || ${quoted(v)} ||
            ' (leave out the thousands separators)'
          WHEN ${v} ~ '^[0-9]{1,3}(\\.[0-9]{3})+,[0-9]+$' THEN 'not a plain number: ' || ${quoted(v)} ||
            ' (a decimal comma, points between thousands: pass --decimal-comma, or write ' ||
            replace(replace(${v}, '.', ''), ',', '.') || ')'
          WHEN ${v} ~ '^[0-9]+,[0-9]{1,2}$' THEN 'not a plain number: ' || ${quoted(v)} ||
            ' (write decimals with a point, ' || replace(${v}, ',', '.') || ', or pass --decimal-comma)'
          WHEN ${v} ~ '[0-9]' AND ${v} ~ '^[^0-9.-]|[^0-9.]$' THEN 'not a plain number: ' || ${quoted(v)} ||
            ' (leave out currency symbols and codes)'
          ELSE 'not a number: ' || ${quoted(v)} END`;
      case 'date': {
        if (dateFormat !== null) {
          const d = reformatDate(v, dateFormat);
          return sql`CASE
            WHEN ${d} IS NULL THEN 'not a date: ' || ${quoted(v)} ||
              ${sql.lit(` (expected ${dateFormat}, as --date-format says, or YYYY-MM-DD)`)}
            WHEN NOT ${isCalendarDate(d)} THEN 'no such date: ' || ${v} || ${sql.lit(` (read as ${dateFormat})`)} END`;
        }
        return sql`CASE
          WHEN NOT ${hasDateShape(v)} THEN 'not a date: ' || ${quoted(v)} || ' (expected YYYY-MM-DD' ||
            ${dateFormatHint(v)} || ')'
          WHEN NOT ${isCalendarDate(v)} THEN 'no such date: ' || ${v} END`;
      }
      case 'timestamp': {
        const m = sql`regexp_match(${v}, ${TIMESTAMP_PATTERN})`;
        return sql`CASE
          WHEN ${m} IS NULL THEN 'not a timestamp: ' || ${quoted(v)} ||
            ' (expected ISO 8601, for example 2025-11-15T09:30:00Z)'
          WHEN NOT ${isCalendarDate(sql`(${m})[1]`)} THEN 'no such date: ' || ${v}
          WHEN coalesce((${m})[2], '00') > '23' OR coalesce((${m})[3], '00') > '59' OR coalesce((${m})[4], '00') >
            '59' THEN 'no such time of day: ' || ${v}
          WHEN (${m})[6] ~ '^[+-]' AND substr((${m})[6], 2, 2) > '14' THEN 'no such time zone offset: ' || ${v} END`;
      }
      case 'emails':
        return sql`(SELECT CASE WHEN e ~ ',' THEN 'not an email address: ' || ${quoted(sql`e`)} ||
          ' (separate addresses with ;)' ELSE 'not an email address: ' || ${quoted(sql`e`)} END
          FROM unnest(string_to_array(${v}, ';')) AS a(raw), LATERAL (SELECT btrim(raw)) AS t(e)
          WHERE e <> '' AND e !~ '^[^@\\s,;]+@[^@\\s,;]+\\.[^@\\s,;]+$' LIMIT 1)`;
      case 'currency':
        return sql`CASE WHEN ${v} !~ '^[A-Za-z]{3}$' THEN 'not a currency code: ' || ${quoted(v)} ||
          ' (expected ISO 4217, such as USD, EUR or IDR)' END`;
      case 'timezone':
        return sql`CASE WHEN NOT EXISTS (SELECT 1 FROM pg_temp.import_zones z WHERE z.name = ${v}) THEN
          'unknown time zone ' || ${quoted(v)} ||
            ' (expected an IANA name such as Europe/Berlin or America/New_York)' END`;
    }
  })();
  const required = c.required ? sql`${label} || 'required, but empty'` : sql`NULL::text`;
  return sql`CASE WHEN ${v} IS NULL THEN ${required} ELSE ${label} || (${reason}) END`;
}

/** The typed value of a cell that passed `checkValue`. */
export function castValue(c: ColumnSpec, v: Sql, dateFormat: DateFormat | null = null): Sql {
  switch (c.type) {
    case 'id':
    case 'text':
    case 'timezone':
      return v;
    case 'count':
      return c.int32 ? sql`split_part(${v}, '.', 1)::integer` : sql`split_part(${v}, '.', 1)::bigint`;
    case 'money':
      return sql`${v}::numeric`;
    case 'date':
      return dateFormat === null ? sql`${v}::date` : sql`(${reformatDate(v, dateFormat)})::date`;
    case 'timestamp': {
      const m = sql`regexp_match(${v}, ${TIMESTAMP_PATTERN})`;
      // No zone means UTC, and a date alone is midnight UTC (csv-import.md), whatever the session's TimeZone.
      return sql`((${m})[1] || ' ' || coalesce((${m})[2] || ':' || (${m})[3] || ':' || coalesce((${m})[4], '00') ||
        coalesce((${m})[5], ''), '00:00:00') || ' ' ||
        CASE WHEN (${m})[6] IS NULL OR upper((${m})[6]) IN ('Z', 'UTC') THEN '+00' ELSE (${m})[6] END)::timestamptz`;
    }
    case 'currency':
      return sql`upper(${v})`;
    case 'emails':
      return sql`ARRAY(SELECT btrim(raw) FROM unnest(string_to_array(${v}, ';')) AS a(raw) WHERE btrim(raw) <> '')`;
  }
}

/** A staging cell trimmed of spaces and tabs; an empty cell is NULL. */
export function trimmedCell(index: number): Sql {
  return sql`NULLIF(btrim(${sql.ref(`c${index + 1}`)}, E' \\t'), '')`;
}
