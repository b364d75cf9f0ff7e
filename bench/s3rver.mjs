// A local s3rver for bench/backup-db.sh: prints its endpoint, serves until killed.
// Usage: node bench/s3rver.mjs <directory> <bucket>
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});
const { port } = await server.run();
process.stdout.write(`http://127.0.0.1:${port}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
