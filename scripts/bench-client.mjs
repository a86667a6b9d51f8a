// Cold start of the knock client, to the last knock sent, against loopback:
// our `knock`, Debian's `knock`, and `node -e 0` for scale. Prints median and p90.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 30);
const ours = fileURLToPath(new URL('../client-cli/bin/knock.js', import.meta.url));
const candidates = [
  ['knock (this project)', process.execPath, [ours, '127.0.0.1', '1228', '1227']],
  ['knock (Debian 0.8)', '/usr/bin/knock', ['127.0.0.1', '1228', '1227']],
  ['node -e 0', process.execPath, ['-e', '0']],
];

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
// Round robin (one run of each in turn), so that the load of the machine, which drifts,
// weighs on every command alike and the comparison holds within one run.
const installed = candidates.map(([, cmd]) => existsSync(cmd));
const times = candidates.map(() => []);
for (let i = 0; i < runs + 2; i++) {
  for (const [j, [name, cmd, args]] of candidates.entries()) {
    if (!installed[j]) continue;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    if (i >= 2) times[j].push(ms); // two warm-up rounds fill the page cache
  }
}
console.log('| command | median ms | p90 ms |\n| --- | ---: | ---: |');
for (const [j, [name]] of candidates.entries()) {
  if (!installed[j]) {
    console.log(`| ${name} | not installed | |`);
    continue;
  }
  const sorted = times[j].sort((a, b) => a - b);
  console.log(
    `| ${name} | ${percentile(sorted, 0.5).toFixed(1)} | ${percentile(sorted, 0.9).toFixed(1)} |`,
  );
}
