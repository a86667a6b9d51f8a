/**
 * The real `knock ui` in a real terminal: the built binary runs inside tmux (100×30),
 * keys go in with send-keys, the screen comes back with capture-pane. The knock goes
 * to loopback only: closed 127.0.0.1 ports, then a listener bound with listen(0) as the
 * verified port.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));

function tmuxMissing(): string | undefined {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'tmux is not installed (apt-get install tmux)';
  }
}
const skipReason = tmuxMissing();

const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
};

describe.skipIf(skipReason !== undefined)(
  `knock ui in tmux${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    // A private tmux server, so the test never touches anyone's sessions.
    const socket = `knock-ui-test-${process.pid}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
    let dir: string;
    let config: string;
    let listener: Server;
    let open: number;
    let knocks: number[];

    const screen = async () => (await tmux('capture-pane', '-p', '-t', 'knock')).stdout;
    const keys = (...k: string[]) => tmux('send-keys', '-t', 'knock', ...k);
    const type = (text: string) => tmux('send-keys', '-t', 'knock', '-l', text);
    /** Polls the screen (bounded) until `check` passes; fails with the last screen. */
    async function waitForScreen(check: (text: string) => boolean, what: string): Promise<string> {
      let last = '';
      for (let i = 0; i < 100; i++) {
        last = await screen();
        if (check(last)) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
    }

    beforeAll(async () => {
      // Build the CLI (and shared, which it references) the way users do.
      await run(join(repo, 'node_modules/.bin/tsc'), ['-b', 'client-cli'], { cwd: repo }).catch(
        (error: { stdout?: string }) => {
          // tsc -b still emits when another project has type errors; fail only if ours is missing.
          if (!existsSync(join(repo, 'client-cli/dist/ui/run.js')))
            throw new Error(`tsc -b client-cli did not build the TUI:\n${error.stdout ?? ''}`);
        },
      );
      dir = await mkdtemp(join(tmpdir(), 'knock-ui-'));
      config = join(dir, 'config.toml');
      listener = createServer((s) => s.destroy());
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      open = (listener.address() as { port: number }).port;
      knocks = [await freePort(), await freePort()];
      await writeFile(
        config,
        `[hosts."127.0.0.1"]\nsequence = "${knocks.join(',')}"\nport = ${open}\nfamily = "ipv4"\n`,
      );
      // The exit status lands in a file: the pane closes when knock exits.
      const command = `env -u CI KNOCK_CONFIG='${config}' node '${join(repo, 'client-cli/bin/knock.js')}' ui; echo "exit $?" > '${join(dir, 'status')}'`;
      await tmux('new-session', '-d', '-s', 'knock', '-x', '100', '-y', '30', command);
    }, 180_000);

    afterAll(async () => {
      await tmux('kill-server').catch(() => undefined);
      if (listener) await new Promise((resolve) => listener.close(resolve));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('shows the profile from $KNOCK_CONFIG', async () => {
      const text = await waitForScreen((s) => s.includes('❯ 127.0.0.1'), 'the profile list');
      expect(text).toContain(`profiles in ${config}`);
      expect(text).toMatch(new RegExp(`❯ 127\\.0\\.0\\.1\\s+${knocks.join(',')}\\s+${open}`));
      expect(text).toContain('Enter knock');
    });

    it('knocks on Enter and shows each knock, then the port open', async () => {
      await keys('Enter');
      const text = await waitForScreen((s) => s.includes('open on'), 'the knock to finish');
      expect(text).toContain(
        `127.0.0.1: sent ${knocks[0]} ✓, ${knocks[1]} ✓, open on 127.0.0.1:${open}`,
      );
    });

    it('adds a profile: a bad sequence is flagged inline, a good one is saved to the file', async () => {
      await keys('a');
      await waitForScreen((s) => s.includes('New profile'), 'the form');
      await type('ssh.example.org');
      await keys('Tab');
      await type('7000,ssh');
      await keys('Enter');
      const flagged = await waitForScreen((s) => s.includes('✗'), 'the inline error');
      expect(flagged).toContain('✗ column 6: "ssh" is not a port number');
      expect(await readFile(config, 'utf8')).not.toContain('ssh.example.org');
      await keys('BSpace', 'BSpace', 'BSpace');
      await type('8000:udp');
      await keys('Enter');
      const saved = await waitForScreen((s) => s.includes('saved ssh.example.org'), 'the save');
      expect(saved).toMatch(/❯ ssh\.example\.org\s+7000,8000:udp\s+22/);
      const file = await readFile(config, 'utf8');
      expect(file).toContain('[hosts."ssh.example.org"]');
      expect(file).toContain('sequence = "7000,8000:udp"');
      expect(file).toContain('[hosts."127.0.0.1"]');
    });

    it('quits on q with status 0 and gives the terminal back', async () => {
      await keys('q');
      const status = join(dir, 'status');
      for (let i = 0; i < 50 && !existsSync(status); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await readFile(status, 'utf8')).toBe('exit 0\n');
    });
  },
);

describe.skipIf(skipReason !== undefined)(
  `knock ui in a small terminal (60×20), NO_COLOR${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const socket = `knock-ui-small-${process.pid}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
    let dir: string;
    let config: string;
    const screen = async (...extra: string[]) =>
      (await tmux('capture-pane', '-p', ...extra, '-t', 'small')).stdout;
    const keys = (...k: string[]) => tmux('send-keys', '-t', 'small', ...k);
    const type = (text: string) => tmux('send-keys', '-t', 'small', '-l', text);
    async function waitForScreen(check: (text: string) => boolean, what: string): Promise<string> {
      let last = '';
      for (let i = 0; i < 100; i++) {
        last = await screen();
        if (check(last)) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
    }

    beforeAll(async () => {
      await run(join(repo, 'node_modules/.bin/tsc'), ['-b', 'client-cli'], { cwd: repo }).catch(
        () => undefined,
      );
      dir = await mkdtemp(join(tmpdir(), 'knock-ui-small-'));
      config = join(dir, 'config.toml');
      const ots = join(dir, 'lab.ots');
      await writeFile(ots, '1001,1002\n1003,1004\n#1005,1006\n1007,1008\n');
      await writeFile(
        config,
        [
          '# comments stay',
          '[hosts."a-rather-long-host-name.example.org"]',
          'sequence = "7000,8000:udp,9000,10000,11000,12000,13000"',
          'port = 22',
          'family = "ipv6"',
          '',
          '[hosts.lab]',
          `one_time_sequences = "${ots}"`,
          '',
        ].join('\n'),
      );
      // The pane stays after knock exits (sleep), so the scrollback can be read.
      const command = `env -u CI NO_COLOR=1 KNOCK_CONFIG='${config}' node '${join(repo, 'client-cli/bin/knock.js')}' ui; echo "exit $?" > '${join(dir, 'status')}'; sleep 60`;
      await tmux('new-session', '-d', '-s', 'small', '-x', '60', '-y', '20', command);
    }, 180_000);

    afterAll(async () => {
      await tmux('kill-server').catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('keeps one line per profile, with a family column and what is left of a one-time file', async () => {
      const text = await waitForScreen((s) => s.includes('3 left'), 'the list');
      const lines = text.split('\n');
      const header = lines.findIndex((l) => l.includes('HOST'));
      expect(lines[header]).toMatch(/HOST\s+SEQUENCE\s+PORT\s+FAMILY/);
      // The next two lines are the two profiles: no wrapped continuation lines between.
      expect(lines[header + 1]).toMatch(/^❯ a-rather-long.*\s22\s+ipv6\s*$/);
      expect(lines[header + 2]).toMatch(/^ {2}lab\s+one-time \(3 left\): .*\s—\s+any\s*$/);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
      // NO_COLOR: no colour escapes at all.
      const ESC = String.fromCharCode(27);
      expect(await screen('-e')).not.toMatch(new RegExp(`${ESC}\\[(3[0-7]|9[0-7]|38;)`));
    });

    it('keeps every form label on one line, and checks the sequence as it is typed', async () => {
      await keys('a');
      await waitForScreen((s) => s.includes('New profile'), 'the form');
      await type('h');
      await keys('Tab');
      await type('1228,,70000');
      const text = await waitForScreen((s) => s.includes('70000 is out'), 'both problems');
      for (const label of [
        'Host',
        'Sequence',
        'One-time file',
        'Verify port',
        'Family',
        'Delay (ms)',
      ])
        expect(text).toMatch(new RegExp(`│ (❯ | {2})${label.replace(/[()]/g, '\\$&')}\\s`));
      expect(text).toContain('✗ column 6: empty element');
      expect(text).toContain('✗ column 7: port 70000 is out of range');
      await keys('BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace');
      await type('7000');
      const fixed = await waitForScreen((s) => !s.includes('✗'), 'the problems to clear');
      expect(fixed).toContain('1228,7000');
      await keys('Escape');
    });

    it('exits 130 on Ctrl+C and leaves no frame in the scrollback (alternate screen)', async () => {
      await waitForScreen((s) => s.includes('HOST'), 'the list');
      await keys('C-c');
      const status = join(dir, 'status');
      for (let i = 0; i < 50 && !existsSync(status); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await readFile(status, 'utf8')).toBe('exit 130\n');
      const all = await screen('-S', '-1000');
      expect(all).not.toContain('profiles in');
      expect(all).not.toContain('HOST');
    });
  },
);
