import { KnockError, emptyDraft } from '@knock/shared';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerProfileIpc } from '../../src/main/profile-ipc.js';
import { ipcMain, mock } from '../mocks/electron.js';
import { FakeStore, PATH, lab, maths } from '../fakes.js';

const CHROMIUM = '/usr/bin/chromium';
const ORIGIN = 'http://knock.test';
const root = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

/**
 * The profile window's real page and script in Debian's chromium. Only the
 * preload is replaced: a fake `window.knockProfiles` (addInitScript) forwards
 * each call to Node, where the real IPC handlers (validation with the CLI's
 * parser, saving) run against an in-memory profile file.
 */
describe.skipIf(!existsSync(CHROMIUM))(
  `profile window in chromium${existsSync(CHROMIUM) ? '' : ` (skipped: ${CHROMIUM} is missing; apt-get install chromium)`}`,
  () => {
    let browser: Browser;
    let script: string;

    beforeAll(async () => {
      const source = await readFile(root('src/renderer/profiles.ts'), 'utf8');
      // The page loads the built script; compile it here so the test needs no build.
      script = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    async function open(store: FakeStore): Promise<{ page: Page; problems: string[] }> {
      mock.handlers.clear();
      const own = { id: 'profile window' };
      registerProfileIpc({
        ipcMain,
        isTrusted: (event) => event.sender === own,
        store,
        onSaved: () => undefined,
      });
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.route(`${ORIGIN}/**`, async (route) => {
        const path = new URL(route.request().url()).pathname;
        if (path === '/src/renderer/index.html' || path === '/src/renderer/style.css') {
          const type = path.endsWith('.css') ? 'text/css' : 'text/html';
          await route.fulfill({
            contentType: type,
            body: await readFile(root(path.slice(1)), 'utf8'),
          });
        } else if (path === '/dist/renderer/profiles.js') {
          await route.fulfill({ contentType: 'text/javascript', body: script });
        } else await route.fulfill({ status: 404, body: 'not found' });
      });
      await page.exposeFunction('__knockIpc', (channel: string, args: unknown[]) =>
        mock.invoke(
          channel,
          { webContents: own, url: `${ORIGIN}/src/renderer/index.html` },
          ...args,
        ),
      );
      await page.addInitScript(() => {
        // Runs in the page, where globalThis is the window.
        const page = globalThis as unknown as {
          __knockIpc: (channel: string, args: unknown[]) => Promise<unknown>;
        };
        const ipc = page.__knockIpc;
        Object.defineProperty(page, 'knockProfiles', {
          value: {
            load: () => ipc('knock:profiles:load', []),
            check: (draft: unknown, original: unknown) =>
              ipc('knock:profiles:check', [draft, original]),
            save: (draft: unknown, original: unknown) =>
              ipc('knock:profiles:save', [draft, original]),
            remove: (host: unknown) => ipc('knock:profiles:remove', [host]),
          },
        });
      });
      await page.goto(`${ORIGIN}/src/renderer/index.html`);
      await page.locator('#hosts li, #form-title').first().waitFor();
      return { page, problems };
    }

    it('lists the profiles and shows the first one in the form', async () => {
      const { page, problems } = await open(new FakeStore([maths, lab]));
      await expect
        .poll(() => page.locator('#hosts button').allTextContents())
        .toEqual(['ssh.maths.fr', 'lab.example.org']);
      expect(await page.textContent('#path')).toBe(
        `Saved in ${PATH}, the file the knock command reads.`,
      );
      expect(await page.inputValue('#host')).toBe('ssh.maths.fr');
      expect(await page.inputValue('#sequence')).toBe('1228,1227');
      await page.click('#hosts button >> text=lab.example.org');
      expect(await page.inputValue('#oneTimeSequences')).toBe(lab.oneTimeSequences);
      expect(await page.inputValue('#family')).toBe('ipv4');
      // The CSP lets our own script and style in, and nothing went wrong.
      expect(problems).toEqual([]);
      await page.close();
    });

    it('starts a new profile from the same blank draft as the TUI (emptyDraft)', async () => {
      const { page, problems } = await open(new FakeStore([maths]));
      await page.click('#new');
      const blank = emptyDraft();
      const shown = Object.fromEntries(
        await Promise.all(
          Object.keys(blank).map(async (field) => [field, await page.inputValue(`#${field}`)]),
        ),
      );
      expect(shown).toEqual(blank);
      expect(await page.textContent('#form-title')).toBe('New profile');
      expect(problems).toEqual([]);
      await page.close();
    });

    it('flags a bad sequence inline and does not save it, then saves a good one', async () => {
      const store = new FakeStore([maths]);
      const { page, problems } = await open(store);
      await page.click('#new');
      await page.fill('#host', 'new.example.org');
      await page.fill('#sequence', '7000,ssh');
      // Flagged while typing, before any save.
      await expect
        .poll(() => page.textContent('#error-sequence'))
        .toBe(
          'column 6: "ssh" is not a port number: knockd reads it as port 0 (write the port number (e.g. 22 for ssh))',
        );
      expect(await page.getAttribute('#sequence', 'aria-invalid')).toBe('true');
      await page.click('#save');
      await expect
        .poll(() => page.textContent('#status'))
        .toBe('Not saved: fix the fields in red.');
      expect(store.saves).toEqual([]);

      await page.fill('#sequence', '7000,8000:udp');
      await page.fill('#port', '2222');
      await page.selectOption('#family', 'ipv6');
      await page.click('#save');
      await expect.poll(() => page.textContent('#status')).toBe(`saved new.example.org to ${PATH}`);
      expect(store.saves).toEqual([
        [
          maths,
          {
            host: 'new.example.org',
            sequence: [
              { port: 7000, protocol: 'tcp' },
              { port: 8000, protocol: 'udp' },
            ],
            port: 2222,
            family: 'ipv6',
            delayMs: 0,
          },
        ],
      ]);
      expect(await page.textContent('#error-sequence')).toBe('');
      expect(await page.locator('#hosts button').allTextContents()).toEqual([
        'ssh.maths.fr',
        'new.example.org',
      ]);
      expect(await page.textContent('#form-title')).toBe('Edit new.example.org');
      expect(problems).toEqual([]);
      await page.close();
    });

    it('edits the session keys (open_for, close_sequence, keep_open)', async () => {
      const store = new FakeStore([maths]);
      const { page, problems } = await open(store);
      await page.fill('#openFor', '300');
      await page.fill('#closeSequence', '9000,8000,7000');
      await page.selectOption('#keepOpen', 'yes');
      await page.click('#save');
      await expect.poll(() => page.textContent('#status')).toBe(`saved ssh.maths.fr to ${PATH}`);
      expect(store.saves.at(-1)?.[0]).toEqual({
        ...maths,
        openFor: 300,
        closeSequence: [
          { port: 9000, protocol: 'tcp' },
          { port: 8000, protocol: 'tcp' },
          { port: 7000, protocol: 'tcp' },
        ],
        keepOpen: true,
      });
      await page.fill('#openFor', 'soon');
      await expect.poll(() => page.textContent('#error-openFor')).toMatch(/from 1 to 31536000/);
      expect(problems).toEqual([]);
      await page.close();
    });

    // Screenshots of each state, kept as test artifacts (the README's PNG is one of them).
    it('looks right: list, edit with errors, dark mode (screenshots in test-artifacts/)', async () => {
      const dir = root('../test-artifacts/profile-window');
      await mkdir(dir, { recursive: true });
      const session = {
        ...maths,
        openFor: 300,
        closeSequence: [{ port: 9000, protocol: 'tcp' as const }],
        keepOpen: true,
      };
      const shots: Record<string, Buffer> = {};
      for (const scheme of ['light', 'dark'] as const) {
        const { page, problems } = await open(new FakeStore([session, lab]));
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width: 860, height: 700 });
        await expect.poll(() => page.inputValue('#keepOpen')).toBe('yes');
        const background = await page.evaluate<string>(
          'getComputedStyle(document.body).backgroundColor',
        );
        // Dark mode follows the system: a dark background, not the light one.
        expect(background).toBe(scheme === 'dark' ? 'rgb(27, 29, 33)' : 'rgb(246, 247, 249)');
        shots[`list-${scheme}`] = await page.screenshot({
          path: `${dir}/list-${scheme}.png`,
          fullPage: true,
        });
        if (scheme === 'light') {
          await page.fill('#sequence', '7000,ssh');
          await page.fill('#openFor', 'soon');
          await expect.poll(() => page.textContent('#error-sequence')).not.toBe('');
          await expect.poll(() => page.textContent('#error-openFor')).not.toBe('');
          await page.click('#save');
          await expect
            .poll(() => page.textContent('#status'))
            .toBe('Not saved: fix the fields in red.');
          shots['edit-errors'] = await page.screenshot({
            path: `${dir}/edit-errors.png`,
            fullPage: true,
          });
        }
        expect(problems).toEqual([]);
        await page.close();
      }
      // Real images (PNG signature), and the three states differ.
      for (const shot of Object.values(shots))
        expect(shot.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
      const distinct = new Set(Object.values(shots).map((b) => b.toString('base64')));
      expect(distinct.size).toBe(3);
    });

    it('deletes after a second click', async () => {
      const store = new FakeStore([maths, lab]);
      const { page } = await open(store);
      await page.click('#delete');
      expect(await page.textContent('#delete')).toBe('Really delete ssh.maths.fr?');
      expect(store.saves).toEqual([]);
      await page.click('#delete');
      await expect.poll(() => page.textContent('#status')).toBe('deleted ssh.maths.fr');
      expect(store.saves).toEqual([[lab]]);
      expect(await page.locator('#hosts button').allTextContents()).toEqual(['lab.example.org']);
      await page.close();
    });

    it('shows a bad profile file and offers no save', async () => {
      const store = new FakeStore([]);
      store.failLoad = new KnockError(
        'profile.invalid',
        `${PATH}:3:12: error: port 70000 is out of range`,
      );
      const { page } = await open(store);
      await expect
        .poll(() => page.textContent('#load-error'))
        .toBe(`Cannot read the profiles:\n${PATH}:3:12: error: port 70000 is out of range`);
      expect(await page.isDisabled('#save')).toBe(true);
      await page.close();
    });
  },
);
