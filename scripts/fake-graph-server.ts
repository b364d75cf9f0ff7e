/**
 * `make demo`: the stand-in Graph API on loopback with two generated ad
 * accounts whose 28 days end today. Prints its URL on the first line of
 * standard output, then serves until SIGTERM.
 */
import { FakeGraphApi, generateAccount } from '../tests/helpers/fake-graph-api.js';

const today = new Date().toISOString().slice(0, 10);
const fake = new FakeGraphApi({
  validTokens: ['DEMO-TOKEN'],
  accounts: [
    generateAccount({
      id: '1000000001',
      name: 'Demo Agency EU',
      campaigns: 14,
      days: 40,
      until: today,
      timezone: 'UTC',
      seed: 7,
    }),
    generateAccount({
      id: '1000000002',
      name: 'Demo Agency JP',
      campaigns: 6,
      days: 40,
      until: today,
      currency: 'JPY',
      timezone: 'UTC',
      seed: 8,
    }),
  ],
});
const url = await fake.start(Number(process.env.FAKE_GRAPH_PORT ?? 0));
process.stdout.write(`${url}\n`);
process.on('SIGTERM', () => void fake.stop().then(() => process.exit(0)));
