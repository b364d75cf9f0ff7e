import { describe, expect, test } from '@jest/globals';
import { isConnectionError } from '../../src/db/connection-errors.js';

const withCode = (code: string, message = 'x', syscall?: string): Error =>
  Object.assign(new Error(message), { code, syscall });

describe('isConnectionError: which failures mean "the database is not there" (exit 69, retried on connect)', () => {
  test.each([
    ['refused', withCode('ECONNREFUSED')],
    ['reset by the server', withCode('ECONNRESET')],
    [
      'a write on a socket the server already closed (backend terminated mid-run)',
      withCode('EPIPE', 'write EPIPE', 'write'),
    ],
    ['unknown host', withCode('ENOTFOUND')],
    [
      'no unix socket: the local server is not running',
      withCode('ENOENT', 'connect ENOENT /x/.s.PGSQL.5432', 'connect'),
    ],
    ['backend terminated by an administrator (57P01)', withCode('57P01')],
    ['server crash shutdown (57P02)', withCode('57P02')],
    ['server starting up or shutting down (57P03)', withCode('57P03')],
    ['too many connections (53300)', withCode('53300')],
    ['connection exception class 08', withCode('08006')],
    [
      'node-pg: a query on a client that already lost its connection',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['node-pg: connection terminated', new Error('Connection terminated unexpectedly')],
    ['node-pg pool: connect timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s is a connection error', (_name, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  test.each([
    ['a missing file (ENOENT outside connect)', withCode('ENOENT', 'open x', 'open')],
    ['a unique violation (23505)', withCode('23505')],
    ['a syntax error (42601)', withCode('42601')],
    ['a statement cancelled (57014)', withCode('57014')],
    ['a plain error', new Error('boom')],
    ['nothing', null],
  ])('%s is not', (_name, error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});
