import { emptyDraft } from '@knock/shared';
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { commandForKey, splitKeys } from '../../src/ui/keys.js';
import { initialState, type Screen, type TuiState } from '../../src/ui/state.js';

const noKey: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};
const key = (change: Partial<Key> = {}): Key => ({ ...noKey, ...change });
const on = (screen: Screen): TuiState => ({ ...initialState('/p'), status: 'ready', screen });
const list = on({ kind: 'list' });
const form = (field: 'host' | 'family') =>
  on({
    kind: 'form',
    original: null,
    draft: emptyDraft(),
    field,
    errors: {},
    touched: [],
    submitted: false,
  });

describe('commandForKey', () => {
  it('maps the list keys', () => {
    expect(commandForKey(list, '', key({ upArrow: true }))).toEqual({ type: 'move', by: -1 });
    expect(commandForKey(list, 'k', key())).toEqual({ type: 'move', by: -1 });
    expect(commandForKey(list, 'j', key())).toEqual({ type: 'move', by: 1 });
    expect(commandForKey(list, '', key({ return: true }))).toEqual({ type: 'knock' });
    expect(commandForKey(list, 'a', key())).toEqual({ type: 'add' });
    expect(commandForKey(list, 'e', key())).toEqual({ type: 'edit' });
    expect(commandForKey(list, 'd', key())).toEqual({ type: 'delete' });
    expect(commandForKey(list, 'r', key())).toEqual({ type: 'reload' });
    expect(commandForKey(list, 'q', key())).toEqual({ type: 'quit' });
    expect(commandForKey(list, '', key({ escape: true }))).toEqual({ type: 'quit' });
    expect(commandForKey(list, 'x', key())).toBeUndefined();
  });

  it('quits on Ctrl+C from every screen, as an interrupt (exit 130)', () => {
    for (const state of [list, form('host'), on({ kind: 'confirm-delete', host: 'h' })]) {
      expect(commandForKey(state, 'c', key({ ctrl: true }))).toEqual({
        type: 'quit',
        interrupted: true,
      });
    }
    expect(commandForKey(list, 'q', key())).toEqual({ type: 'quit' });
  });

  it('types letters into form fields instead of running list commands', () => {
    expect(commandForKey(form('host'), 'q', key())).toEqual({ type: 'form-type', text: 'q' });
    expect(commandForKey(form('host'), 'ab\x01c', key())).toEqual({
      type: 'form-type',
      text: 'abc',
    });
    expect(commandForKey(form('host'), '', key({ backspace: true }))).toEqual({
      type: 'form-erase',
    });
    expect(commandForKey(form('host'), '', key({ escape: true }))).toEqual({ type: 'cancel' });
    expect(commandForKey(form('host'), '', key({ return: true }))).toEqual({ type: 'form-submit' });
    expect(commandForKey(form('host'), '', key({ tab: true, shift: true }))).toEqual({
      type: 'form-focus',
      by: -1,
    });
  });

  it('changes the family with arrows and space, and ignores typing there', () => {
    expect(commandForKey(form('family'), '', key({ rightArrow: true }))).toEqual({
      type: 'form-cycle',
      by: 1,
    });
    expect(commandForKey(form('family'), ' ', key())).toEqual({ type: 'form-cycle', by: 1 });
    expect(commandForKey(form('family'), '', key({ leftArrow: true }))).toEqual({
      type: 'form-cycle',
      by: -1,
    });
    expect(commandForKey(form('family'), 'x', key())).toBeUndefined();
  });

  it('answers the delete question with y or n only', () => {
    const confirm = on({ kind: 'confirm-delete', host: 'h' });
    expect(commandForKey(confirm, 'y', key())).toEqual({ type: 'confirm' });
    expect(commandForKey(confirm, 'n', key())).toEqual({ type: 'cancel' });
    expect(commandForKey(confirm, '', key({ escape: true }))).toEqual({ type: 'cancel' });
    expect(commandForKey(confirm, '', key({ return: true }))).toBeUndefined();
    expect(commandForKey(confirm, 'q', key())).toBeUndefined();
  });
});

describe('splitKeys', () => {
  it('leaves single keys and escape sequences alone', () => {
    expect(splitKeys('a', key())).toEqual([{ input: 'a', key: key() }]);
    expect(splitKeys('', key({ upArrow: true }))).toEqual([
      { input: '', key: key({ upArrow: true }) },
    ]);
    expect(splitKeys('\x1b[A', key())).toEqual([{ input: '\x1b[A', key: key() }]);
  });

  it('splits a chunk into characters, turning Enter, Tab, Backspace and Ctrl+C into keys', () => {
    expect(splitKeys('1,x\x7f2\t\r\x03', key())).toEqual([
      { input: '1', key: key() },
      { input: ',', key: key() },
      { input: 'x', key: key() },
      { input: '', key: key({ backspace: true }) },
      { input: '2', key: key() },
      { input: '', key: key({ tab: true }) },
      { input: '', key: key({ return: true }) },
      { input: 'c', key: key({ ctrl: true }) },
    ]);
  });
});
