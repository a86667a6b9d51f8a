import { describe, expect, it } from 'vitest';
import { describeRun } from '../../src/ui/format.js';
import {
  initialState,
  isKnocking,
  reducer,
  selectedProfile,
  type Action,
  type TuiState,
} from '../../src/ui/state.js';
import { PATH, lab, maths } from './fakes.js';

const run = (state: TuiState, ...actions: Action[]) => actions.reduce(reducer, state);
const ready = (profiles = [maths, lab]) =>
  reducer(initialState(PATH), { type: 'loaded', path: PATH, profiles, exists: true });

describe('reducer: loading', () => {
  it('starts loading with the path known, then shows the profiles', () => {
    expect(initialState(PATH)).toMatchObject({ status: 'loading', path: PATH, profiles: [] });
    expect(ready()).toMatchObject({ status: 'ready', profiles: [maths, lab], selected: 0 });
  });

  it('keeps the selected host across a reload', () => {
    const state = run(ready(), { type: 'move', by: 1 }, { type: 'reload' });
    expect(state.status).toBe('loading');
    const reloaded = reducer(state, { type: 'loaded', path: PATH, profiles: [lab], exists: true });
    expect(selectedProfile(reloaded)).toEqual(lab);
  });

  it('records a load error and refuses edits until the file is fixed', () => {
    const state = run(ready(), { type: 'load-failed', message: `${PATH}:2:1: error: bad` });
    expect(state).toMatchObject({
      status: 'error',
      loadError: `${PATH}:2:1: error: bad`,
      profiles: [],
    });
    for (const type of ['add', 'edit', 'delete'] as const) {
      const after = reducer(state, { type });
      expect(after.screen).toEqual({ kind: 'list' });
      expect(after.notice).toMatchObject({
        tone: 'error',
        text: `fix ${PATH} first, then press r`,
      });
    }
  });
});

describe('reducer: selection', () => {
  it('moves within bounds', () => {
    expect(run(ready(), { type: 'move', by: -1 }).selected).toBe(0);
    expect(run(ready(), { type: 'move', by: 5 }).selected).toBe(1);
    expect(run(ready([]), { type: 'move', by: 1 }).selected).toBe(0);
  });
});

describe('reducer: form', () => {
  it('types into the focused field, erases, and moves between fields (wrapping)', () => {
    const state = run(
      ready(),
      { type: 'add' },
      { type: 'form-type', text: 'ab' },
      { type: 'form-erase' },
      { type: 'form-focus', by: -1 },
    );
    expect(state.screen).toMatchObject({ kind: 'form', field: 'delayMs', draft: { host: 'a' } });
  });

  it('cycles the family only on the family field', () => {
    const onHost = run(ready(), { type: 'add' }, { type: 'form-cycle', by: 1 });
    expect(onHost.screen).toMatchObject({ draft: { family: 'any' } });
    const onFamily = run(onHost, { type: 'form-focus', by: 4 }, { type: 'form-cycle', by: -1 });
    expect(onFamily.screen).toMatchObject({ field: 'family', draft: { family: 'ipv6' } });
  });

  it('on a bad submit shows the errors and focuses the first bad field, saving nothing', () => {
    const state = run(
      ready(),
      { type: 'add' },
      { type: 'form-type', text: 'new.host' },
      { type: 'form-focus', by: 3 },
      { type: 'form-type', text: 'x' },
      { type: 'form-submit' },
    );
    expect(state.saving).toBeUndefined();
    expect(state.screen).toMatchObject({
      kind: 'form',
      field: 'sequence',
      errors: { sequence: expect.stringContaining('required'), port: expect.any(String) },
    });
  });

  it('queues one change (the edited profile and what it was), then selects the saved profile', () => {
    const editing = run(ready(), { type: 'move', by: 1 }, { type: 'edit' }, { type: 'form-erase' });
    const submitted = reducer(editing, { type: 'form-submit' });
    expect(submitted.saving?.change).toEqual({
      type: 'put',
      original: 'lab.example.org',
      profile: { ...lab, host: 'lab.example.or' },
      previous: lab,
    });
    // Typing is ignored while the write is in flight.
    expect(reducer(submitted, { type: 'form-type', text: 'z' })).toBe(submitted);
    // The store answers the file as it is now, with a profile another program added.
    const added = { ...maths, host: 'added.elsewhere' };
    const saved = reducer(submitted, {
      type: 'saved',
      loaded: {
        path: PATH,
        exists: true,
        profiles: [maths, { ...lab, host: 'lab.example.or' }, added],
        warnings: [],
        invalid: [],
      },
    });
    expect(saved).toMatchObject({
      screen: { kind: 'list' },
      selected: 1,
      notice: { tone: 'info', text: `saved lab.example.or to ${PATH}` },
    });
    expect(saved.profiles.map((p) => p.host)).toEqual([
      'ssh.maths.fr',
      'lab.example.or',
      'added.elsewhere',
    ]);
    expect(saved.saving).toBeUndefined();
  });

  it('keeps the form and the old list when the save fails', () => {
    const submitted = run(
      ready(),
      { type: 'edit' },
      { type: 'form-erase' },
      { type: 'form-submit' },
    );
    const failed = reducer(submitted, { type: 'save-failed', message: 'disk full' });
    expect(failed.screen).toMatchObject({ kind: 'form', draft: { host: 'ssh.maths.f' } });
    expect(failed.profiles).toEqual([maths, lab]);
    expect(failed.notice).toMatchObject({ tone: 'error', text: 'disk full' });
  });

  it('checks each field as it is typed, and clears a problem once fixed', () => {
    const typing = run(
      ready(),
      { type: 'add' },
      { type: 'form-type', text: 'new.host' },
      { type: 'form-focus', by: 1 },
      { type: 'form-type', text: '1228,,70000' },
    );
    // Both problems of the sequence at once, before Enter; untouched fields stay quiet.
    const errors = (typing.screen as { errors: Record<string, string> }).errors;
    expect(Object.keys(errors)).toEqual(['sequence']);
    expect(errors.sequence?.split('\n')).toEqual([
      expect.stringMatching(/^column 6: empty element/),
      expect.stringMatching(/^column 7: port 70000 is out of range/),
    ]);
    const fixed = run(
      typing,
      ...Array.from({ length: 6 }, () => ({ type: 'form-erase' }) as Action),
      { type: 'form-type', text: '7000' },
    );
    expect(fixed.screen).toMatchObject({ draft: { sequence: '1228,7000' }, errors: {} });
  });

  it('takes a service name for the verify port, as the CLI does', () => {
    const services = (name: string) => (name === 'ssh' ? 22 : undefined);
    const state = run(
      reducer(initialState(PATH, services), {
        type: 'loaded',
        path: PATH,
        profiles: [],
        exists: true,
      }),
      { type: 'add' },
      { type: 'form-type', text: 'h' },
      { type: 'form-focus', by: 1 },
      { type: 'form-type', text: '1' },
      { type: 'form-focus', by: 2 },
      { type: 'form-erase' },
      { type: 'form-erase' },
      { type: 'form-type', text: 'ssh' },
      { type: 'form-submit' },
    );
    expect(state.saving?.change).toMatchObject({ type: 'put', profile: { host: 'h', port: 22 } });
    const unknown = run(
      state,
      { type: 'save-failed', message: 'x' },
      { type: 'form-type', text: 'x' },
    );
    expect(unknown.screen).toMatchObject({
      errors: { port: expect.stringContaining('"sshx" is not a known service name') },
    });
  });
});

describe('reducer: messages', () => {
  it('clears the last message on the next key, or when it expires', () => {
    const state = run(ready(), { type: 'notice', tone: 'info', text: 'hello' });
    expect(run(state, { type: 'key' }).notice).toBeUndefined();
    const id = state.notice?.id ?? 0;
    expect(run(state, { type: 'expire', id }).notice).toBeUndefined();
    expect(run(state, { type: 'expire', id: id - 1 }).notice).toBeDefined();
  });

  it('clears a finished knock status, never one in progress', () => {
    const knocking = run(ready(), { type: 'knock-start', profile: maths });
    expect(run(knocking, { type: 'key' }).run).toBeDefined();
    expect(run(knocking, { type: 'expire', id: -1 }).run).toBeDefined();
    const done = run(knocking, {
      type: 'knock-done',
      host: maths.host,
      outcome: { status: 'open', address: '192.0.2.2', port: 22 },
    });
    expect(run(done, { type: 'key' }).run).toBeUndefined();
    expect(run(done, { type: 'expire', id: -1 }).run).toBeUndefined();
  });
});

describe('reducer: delete', () => {
  it('asks, then saves the list without the profile', () => {
    const asking = run(ready(), { type: 'delete' });
    expect(asking.screen).toEqual({ kind: 'confirm-delete', host: 'ssh.maths.fr' });
    expect(run(asking, { type: 'cancel' }).screen).toEqual({ kind: 'list' });
    const confirmed = run(asking, { type: 'confirm' });
    expect(confirmed.saving?.change).toEqual({
      type: 'delete',
      host: 'ssh.maths.fr',
      previous: maths,
    });
    const deleted = run(confirmed, {
      type: 'saved',
      loaded: { path: PATH, exists: true, profiles: [lab], warnings: [], invalid: [] },
    });
    expect(deleted.profiles).toEqual([lab]);
    expect(deleted.notice?.text).toBe('deleted ssh.maths.fr');
  });

  it('does nothing on an empty list', () => {
    expect(run(ready([]), { type: 'delete' }).screen).toEqual({ kind: 'list' });
  });
});

describe('reducer: knocking', () => {
  it('follows a knock from resolving to open', () => {
    const host = maths.host;
    const started = run(ready(), { type: 'knock-start', profile: maths });
    expect(isKnocking(started)).toBe(true);
    const events: Action[] = [
      { type: 'resolved', addresses: ['192.0.2.2', '2001:db8::2'] },
      { type: 'sent', knock: { port: 1228, protocol: 'tcp' }, index: 0, total: 2 },
      { type: 'sent', knock: { port: 1227, protocol: 'tcp' }, index: 1, total: 2 },
      { type: 'verifying', port: 22, addresses: ['192.0.2.2', '2001:db8::2'] },
      { type: 'open', address: '2001:db8::2', port: 22 },
    ].map((event) => ({ type: 'knock-progress', host, event }) as Action);
    const states = [started];
    for (const action of events) states.push(reducer(states.at(-1)!, action));
    expect(states.map((s) => (s.run ? describeRun(s.run) : ''))).toEqual([
      'resolving ssh.maths.fr…',
      'sent 1228 …, 1227 …',
      'sent 1228 ✓, 1227 …',
      'sent 1228 ✓, 1227 ✓',
      'sent 1228 ✓, 1227 ✓, verifying 22…',
      'sent 1228 ✓, 1227 ✓, open on [2001:db8::2]:22',
    ]);
    expect(isKnocking(states.at(-1)!)).toBe(false);
  });

  it('lists the knocks of a one-time sequence as they go out', () => {
    const state = run(
      ready(),
      { type: 'knock-start', profile: lab },
      {
        type: 'knock-progress',
        host: lab.host,
        event: { type: 'sent', knock: { port: 4711, protocol: 'udp' }, index: 0, total: 3 },
      },
    );
    expect(describeRun(state.run!)).toBe('sent 4711:udp ✓');
  });

  it('turns a second knock during a run into a notice, and ignores stale events', () => {
    const state = run(
      ready(),
      { type: 'knock-start', profile: maths },
      { type: 'knock-start', profile: lab },
    );
    expect(state.run?.host).toBe('ssh.maths.fr');
    expect(state.notice?.text).toBe('still knocking ssh.maths.fr…');
    const stale = reducer(state, {
      type: 'knock-done',
      host: 'other',
      outcome: { status: 'sent', addresses: [] },
    });
    expect(stale).toBe(state);
  });

  it('describes every ending', () => {
    const end = (outcome: Parameters<typeof reducer>[1] & { type: 'knock-done' }) =>
      describeRun(run(ready(), { type: 'knock-start', profile: maths }, outcome).run!);
    expect(
      end({
        type: 'knock-done',
        host: maths.host,
        outcome: { status: 'sent', addresses: ['192.0.2.2'] },
      }),
    ).toBe('sent 1228 …, 1227 …, no port to verify (set one with e)');
    expect(
      end({
        type: 'knock-done',
        host: maths.host,
        outcome: { status: 'failed', reason: 'no route', exitCode: 6 },
      }),
    ).toBe('sent 1228 …, 1227 …, failed: no route');
    expect(
      end({
        type: 'knock-done',
        host: maths.host,
        outcome: { status: 'closed', port: 22, reason: 'refused' },
      }),
    ).toBe('sent 1228 …, 1227 …, still closed: refused');
  });
});
