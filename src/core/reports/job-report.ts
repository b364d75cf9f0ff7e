/** What a run tells the world, made from its result by a pure report function; the runner prints and records it. */
export interface JobReport {
  /** 0 unless the job finished part of its work (then the exit code of operations' table). */
  exitCode?: number;
  /** Numbers for job_runs.counts and the EMF line. */
  counts: Record<string, number>;
  /** The --json document. */
  summary: Record<string, unknown>;
  /** What a person sees without --json. */
  text: string;
}

/** "1 campaign", "2 campaigns". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
