// status-pollers.mjs SOCKET CLIENTS INTERVAL_MS PID [REPORT]: CLIENTS loops, each
// sending {"cmd":"status"} on the control socket every INTERVAL_MS ms, until process
// PID ends. Then appends one line to REPORT (default: stderr): answers, errors (after
// the first answer), and the daemon's own capture counters from the last answer
// (received, kernel drops). The benchmark harness cannot read the drops itself here:
// every pcap_stats() the daemon makes for a status resets the socket's kernel
// counters (libpcap keeps the totals).
import { appendFileSync, writeSync } from 'node:fs';
import { createConnection } from 'node:net';

const [socket = '/run/knock-server.sock', clients = '10', interval = '10', pid = '0', report] =
  process.argv.slice(2);
let last = { received: 0, kernelDropped: 0 };
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
      // Before the daemon first answered, the socket may not be there yet.
      if (answers > 0) errors++;
      resolve();
    });
    s.on('close', () => {
      if (text.startsWith('{"ok":true')) {
        answers++;
        try {
          last = JSON.parse(text).status.capture ?? last;
        } catch {
          // a cut answer: keep the previous counters
        }
      }
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
const line = `status pollers: ${answers} answers, ${errors} errors; daemon: ${last.received} received, ${last.kernelDropped} kernel drops\n`;
if (report) appendFileSync(report, line);
else writeSync(2, line);
