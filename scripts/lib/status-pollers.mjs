// status-pollers.mjs SOCKET CLIENTS INTERVAL_MS PID: CLIENTS loops, each sending
// {"cmd":"status"} on the control socket every INTERVAL_MS ms, until process PID ends.
// Prints the number of answers, errors and refused connections at the end (stderr).
import { createConnection } from 'node:net';

const [socket = '/run/knock-server.sock', clients = '10', interval = '10', pid = '0'] =
  process.argv.slice(2);
let answers = 0;
let errors = 0;
let running = true;
const alive = () => {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
};
const ask = () =>
  new Promise((resolve) => {
    const s = createConnection(socket);
    let text = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write('{"cmd":"status"}\n'));
    s.on('data', (d) => (text += d));
    s.on('error', () => {
      errors++;
      resolve();
    });
    s.on('close', () => {
      if (text.startsWith('{"ok":true')) answers++;
      resolve();
    });
  });
const loop = async () => {
  while (running) {
    await ask();
    await new Promise((r) => setTimeout(r, Number(interval)));
  }
};
const watch = setInterval(() => {
  if (!alive()) running = false;
}, 200);
await Promise.all(Array.from({ length: Number(clients) }, loop));
clearInterval(watch);
process.stderr.write(`status pollers: ${answers} answers, ${errors} errors\n`);
