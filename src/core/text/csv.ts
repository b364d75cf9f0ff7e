/**
 * A cell a spreadsheet would run as a formula (OWASP, CSV injection: = + - @, tab, carriage return first) gets a
 * single quote in front, so a file people open executes nothing. import-csv takes the quote off again when its own
 * rejects file is re-imported (`stripFormulaGuard`).
 */
export function guardFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}
