import { spawnProcess } from './run-job.js';

/** bin/crm-webhook as systemd runs it, on a free port: its address and the process, once it listens. */
export async function startCrmWebhook(env: Record<string, string>) {
  const child = spawnProcess('crm-webhook', ['--port', '0'], env);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`crm-webhook did not start: ${err}`)), 15_000);
    child.stderr!.on('data', () => {
      const m = /crm-webhook listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`crm-webhook exited ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err };
}
