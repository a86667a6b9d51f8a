import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';

const demo = fileURLToPath(new URL('../../scripts/demo.sh', import.meta.url));

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [demo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 100_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex -- strips the demo's ANSI colours
      resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') });
    });
  });
}

describeNetns(`npm run demo`, () => {
  it('tells the story with every step turning out as told, and leaves nothing behind', async () => {
    const { code, output } = await runDemo();
    expect(output, output).toMatch(/OK\s+ssh from 192\.0\.2\.1 is refused/);
    expect(output).toMatch(/OK\s+ssh from 192\.0\.2\.20 \(trusted\): hello from/);
    expect(output).toMatch(/192\.0\.2\.1: opencloseSSH: OPEN SESAME/);
    expect(output).toMatch(/OK\s+ssh from 192\.0\.2\.1: hello from/);
    expect(output).toMatch(/grant\s+192\.0\.2\.1\s+22\/tcp\s+\d+m\d+s left/);
    expect(output).toMatch(/OK\s+ssh from 192\.0\.2\.66 is refused: banned/);
    expect(output).not.toContain('FAIL');
    expect(code).toBe(0);
    const pid = /kdemo-server-(\d+)/.exec(output)?.[1];
    const left = await new Promise<string>((resolve) => {
      const ls = spawn('ip', ['netns', 'list']);
      let text = '';
      ls.stdout.on('data', (d: Buffer) => (text += d.toString()));
      ls.on('close', () => resolve(text));
    });
    expect(left).not.toContain(`kdemo-server-${pid}`);
    expect(left).not.toContain(`kdemo-client-${pid}`);
  }, 120_000);
});
