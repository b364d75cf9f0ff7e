/**
 * libpq's two connection-string forms, parsed into its keywords, so that a
 * child process (pg_dump, pg_restore) gets the connection through PG*
 * environment variables only: nothing of it, the password least of all, on a
 * command line that `ps` and /proc/<pid>/cmdline show to every user.
 *
 * - URI: postgresql://[user[:password]@][host[:port][,host[:port]…]][/dbname][?keyword=value&…]
 *   (also postgres://), percent-encoded; a host may be a [IPv6] address or a
 *   socket directory (%2Frun%2Fpostgresql, or ?host=/run/postgresql with an
 *   empty host part: postgresql://user:pw@/db?host=/run/dir).
 * - keyword/value: host=/run/dir dbname=app password='it''s' … (values in
 *   single quotes may hold spaces; \' and \\ are escapes).
 *
 * See PostgreSQL's documentation, libpq "Connection Strings" and
 * "Environment Variables".
 */

/** libpq keywords and the environment variable that sets each. */
const ENV_OF: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  require_auth: 'PGREQUIREAUTH',
  channel_binding: 'PGCHANNELBINDING',
  service: 'PGSERVICE',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  sslmode: 'PGSSLMODE',
  requiressl: 'PGREQUIRESSL',
  sslnegotiation: 'PGSSLNEGOTIATION',
  sslcompression: 'PGSSLCOMPRESSION',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcertmode: 'PGSSLCERTMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  sslcrldir: 'PGSSLCRLDIR',
  sslsni: 'PGSSLSNI',
  requirepeer: 'PGREQUIREPEER',
  ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
  ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  gsslib: 'PGGSSLIB',
  gssdelegation: 'PGGSSDELEGATION',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  client_encoding: 'PGCLIENTENCODING',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  load_balance_hosts: 'PGLOADBALANCEHOSTS',
};

/** Keywords libpq knows that have no environment variable and do not matter to a dump or a restore (TCP keepalives). */
const IGNORABLE = new Set([
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'fallback_application_name',
]);

/**
 * Keywords libpq reads only from a connection string or a service file, never from the environment: the tools get
 * them through a service file of their own (see toolConnection).
 */
const SERVICE_ONLY = new Set(['sslpassword']);

export class ConninfoError extends Error {}

/** URI keyword aliases libpq accepts in the query string. */
const ALIASES: Readonly<Record<string, string>> = { ssl: 'sslmode' };

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ConninfoError(`${what}: bad percent-encoding`);
  }
}

function parseUri(uri: string): Map<string, string> {
  const out = new Map<string, string>();
  const rest = uri.replace(/^postgres(?:ql)?:\/\//, '');
  const q = rest.indexOf('?');
  const beforeQuery = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  const slash = beforeQuery.indexOf('/');
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? '' : beforeQuery.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? null : authority.slice(0, at);
  const hostspec = at < 0 ? authority : authority.slice(at + 1);
  if (userinfo !== null) {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (user !== '') out.set('user', decode(user, 'user'));
    if (colon >= 0) out.set('password', decode(userinfo.slice(colon + 1), 'password'));
  }
  if (hostspec !== '') {
    const hosts: string[] = [];
    const ports: string[] = [];
    for (const part of hostspec.split(',')) {
      const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(part);
      if (!m) throw new ConninfoError(`host "${part}": not host[:port]`);
      hosts.push(decode(m[1]!.replace(/^\[(.*)\]$/, '$1'), 'host'));
      ports.push(m[2] ?? '');
    }
    if (hosts.some((h) => h !== '')) out.set('host', hosts.join(','));
    if (ports.some((p) => p !== '')) out.set('port', ports.join(','));
  }
  if (path !== '') out.set('dbname', decode(path, 'dbname'));
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConninfoError(`"${pair.split('=')[0]}": a query parameter needs keyword=value`);
    const key = decode(pair.slice(0, eq), 'keyword');
    out.set(
      ALIASES[key] === undefined ? key : ALIASES[key]!,
      key === 'ssl'
        ? decode(pair.slice(eq + 1), key) === 'true'
          ? 'require'
          : 'prefer'
        : decode(pair.slice(eq + 1), key),
    );
  }
  return out;
}

function parseKeywordValue(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) break;
    const start = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
    const key = text.slice(start, i);
    skipSpace();
    if (key === '' || text[i] !== '=')
      throw new ConninfoError(`expected keyword=value at "${text.slice(start, start + 20).split(/\s/)[0]}"`);
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new ConninfoError(`the value of ${key} opens a quote that is never closed`);
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
    }
    out.set(key, value);
  }
  return out;
}

/** The keywords of a libpq connection string, in either form. */
export function parseConninfo(conninfo: string): Map<string, string> {
  const keywords = /^postgres(?:ql)?:\/\//.test(conninfo) ? parseUri(conninfo) : parseKeywordValue(conninfo);
  for (const key of keywords.keys()) {
    if (ENV_OF[key] === undefined && !IGNORABLE.has(key) && !SERVICE_ONLY.has(key))
      throw new ConninfoError(`"${key}" is not a connection keyword libpq knows`);
  }
  return keywords;
}

/**
 * The PG* environment variables that make libpq connect as `conninfo` says.
 * Keywords the string does not set are left to the caller's environment.
 */
export function conninfoEnv(conninfo: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of parseConninfo(conninfo)) {
    const name = ENV_OF[key];
    // node-postgres' own sslmode=no-verify (encrypt, check nothing), which the jobs accept: libpq calls it require.
    if (name === 'PGSSLMODE' && value === 'no-verify') env[name] = 'require';
    else if (name !== undefined) env[name] = value;
  }
  return env;
}

/** The keywords of `conninfo` that only a service file can carry to libpq (sslpassword), or null when none. */
export function conninfoServiceOnly(conninfo: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [key, value] of parseConninfo(conninfo)) if (SERVICE_ONLY.has(key)) out[key] = value;
  return Object.keys(out).length === 0 ? null : out;
}
