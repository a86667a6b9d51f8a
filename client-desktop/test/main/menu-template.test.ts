import { describe, expect, it } from 'vitest';
import {
  ELAPSED_SHOWN_MS,
  formatElapsed,
  menuTemplate,
  type MenuItem,
  type TrayState,
} from '../../src/main/menu-template.js';
import { PATH, lab, maths } from '../fakes.js';

const NOW = 1_000_000_000;
const state = (change: Partial<TrayState> = {}): TrayState => ({
  path: PATH,
  profiles: [maths, lab],
  runs: {},
  ...change,
});
const labels = (items: MenuItem[]) =>
  items.map((i) =>
    i.type === 'separator' ? '---' : `${i.label}${i.enabled ? '' : ' (disabled)'}`,
  );

describe('menuTemplate', () => {
  it('has one entry per profile that knocks it, then edit and quit', () => {
    const items = menuTemplate(state(), NOW);
    expect(labels(items)).toEqual([
      'ssh.maths.fr',
      'lab.example.org',
      '---',
      'Edit profiles…',
      'Quit knock',
    ]);
    expect(items.flatMap((i) => (i.type === 'normal' && i.action ? [i.action] : []))).toEqual([
      { type: 'knock', host: 'ssh.maths.fr' },
      { type: 'knock', host: 'lab.example.org' },
      { type: 'edit' },
      { type: 'quit' },
    ]);
  });

  it('shows each phase of a knock, and disables the entry while it runs', () => {
    const run = (phase: 'knocking' | 'verifying' | 'closed' | 'failed', port?: number) =>
      labels(
        menuTemplate(
          state({
            runs: { 'ssh.maths.fr': { phase, since: NOW - 5000, ...(port ? { port } : {}) } },
          }),
          NOW,
        ),
      )[0];
    expect(run('knocking')).toBe('ssh.maths.fr — knocking… (disabled)');
    expect(run('verifying', 22)).toBe('ssh.maths.fr — verifying port 22… (disabled)');
    expect(run('closed', 22)).toBe('ssh.maths.fr — still closed');
    expect(run('failed')).toBe('ssh.maths.fr — knock failed');
  });

  it('counts the time since the port opened, for an hour', () => {
    const opened = (ago: number) =>
      labels(
        menuTemplate(
          state({ runs: { 'ssh.maths.fr': { phase: 'open', since: NOW - ago, port: 22 } } }),
          NOW,
        ),
      )[0];
    expect(opened(0)).toBe('ssh.maths.fr — opened 0:00 ago');
    expect(opened(42_500)).toBe('ssh.maths.fr — opened 0:42 ago');
    expect(opened(ELAPSED_SHOWN_MS - 1000)).toBe('ssh.maths.fr — opened 59:59 ago');
    expect(opened(ELAPSED_SHOWN_MS)).toBe('ssh.maths.fr');
  });

  it('lists a profile with errors as not clickable, the others still knock', () => {
    expect(
      labels(menuTemplate(state({ profiles: [maths], invalid: ['broken.example'] }), NOW)),
    ).toEqual([
      'ssh.maths.fr',
      'broken.example — has errors (knock check-profiles) (disabled)',
      '---',
      'Edit profiles…',
      'Quit knock',
    ]);
  });

  it('handles hosts named like Object.prototype properties', () => {
    const profiles = ['constructor', 'toString', '__proto__'].map((host) => ({ ...maths, host }));
    expect(labels(menuTemplate(state({ profiles }), NOW)).slice(0, 3)).toEqual([
      'constructor',
      'toString',
      '__proto__',
    ]);
  });

  it('says how to add a profile when there is none', () => {
    expect(labels(menuTemplate(state({ profiles: [] }), NOW))[0]).toBe(
      'No profiles yet: add one with Edit profiles… (disabled)',
    );
  });

  it('shows the first line of a load error, shortened, and still offers the editor', () => {
    const error = `${PATH}:3:12: error: ${'x'.repeat(100)}\n  hint: fix it`;
    const items = labels(menuTemplate(state({ profiles: [], loadError: error }), NOW));
    expect(items[0]).toMatch(new RegExp(`^${PATH}:3:12: error: x+… \\(disabled\\)$`));
    expect(items[0]!.length).toBeLessThanOrEqual(80 + ' (disabled)'.length);
    expect(items).toContain('Edit profiles…');
  });
});

describe('formatElapsed', () => {
  it('writes m:ss, then h:mm:ss', () => {
    expect(formatElapsed(-5)).toBe('0:00');
    expect(formatElapsed(59_999)).toBe('0:59');
    expect(formatElapsed(61_000)).toBe('1:01');
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
  });
});
