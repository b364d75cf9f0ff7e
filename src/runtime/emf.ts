/**
 * One CloudWatch Embedded Metric Format line (namespace Leadsmart, dimension
 * Job) summarising a run: the CloudWatch agent turns it into metrics.
 */
export function emfLine(job: string, timestamp: number, metrics: Record<string, number>): string {
  const names = Object.keys(metrics);
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: 'Leadsmart',
          Dimensions: [['Job']],
          Metrics: names.map((Name) => ({ Name, Unit: Name === 'DurationMs' ? 'Milliseconds' : 'Count' })),
        },
      ],
    },
    Job: job,
    ...metrics,
  });
}
