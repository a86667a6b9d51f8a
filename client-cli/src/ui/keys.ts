import type { Key } from 'ink';
import type { Action, TuiState } from './state.js';

const CONTROL: Readonly<Record<string, Partial<Key>>> = {
  '\r': { return: true },
  '\n': { return: true },
  '\t': { tab: true },
  '\x7f': { backspace: true },
  '\b': { backspace: true },
  '\x03': { ctrl: true },
};

/**
 * Ink hands over everything between escape sequences as one chunk, so a real
 * terminal can deliver `7000,ssh\r` or `jj` at once (fast typing, a paste, tmux
 * send-keys). Splits such a chunk into one key per character, so Enter, Tab and
 * Backspace inside it still act as keys.
 */
export function splitKeys(input: string, key: Key): { input: string; key: Key }[] {
  if ([...input].length <= 1 || input.startsWith('\x1b')) return [{ input, key }];
  const plain: Key = { ...key };
  for (const name of Object.keys(plain) as (keyof Key)[])
    if (typeof plain[name] === 'boolean') Object.assign(plain, { [name]: false });
  return [...input].map((char) => {
    const control = CONTROL[char];
    if (!control) return { input: char, key: plain };
    return { input: char === '\x03' ? 'c' : '', key: { ...plain, ...control } };
  });
}

/** What a key press means on the current screen: a reducer action, or one of the two effects. */
export type Command = Action | { type: 'knock' } | { type: 'quit'; interrupted?: boolean };

/**
 * The key map, pure so it is tested without a terminal. List: ↑↓/j k move,
 * Enter knocks, a/e/d add/edit/delete, r reloads, q/Esc quit. Form: type to
 * fill, Tab/↓ next field, Shift+Tab/↑ previous, ←→/space change the family,
 * Enter saves, Esc cancels. Ctrl+C quits from anywhere (exit status 130).
 */
export function commandForKey(state: TuiState, input: string, key: Key): Command | undefined {
  if (key.ctrl && input === 'c') return { type: 'quit', interrupted: true };
  const screen = state.screen;
  if (screen.kind === 'confirm-delete') {
    if (input === 'y' || input === 'Y') return { type: 'confirm' };
    if (input === 'n' || input === 'N' || key.escape) return { type: 'cancel' };
    return undefined;
  }
  if (screen.kind === 'form') {
    if (key.escape) return { type: 'cancel' };
    if (key.return) return { type: 'form-submit' };
    if (key.tab) return { type: 'form-focus', by: key.shift ? -1 : 1 };
    if (key.downArrow) return { type: 'form-focus', by: 1 };
    if (key.upArrow) return { type: 'form-focus', by: -1 };
    if (screen.field === 'family') {
      if (key.leftArrow) return { type: 'form-cycle', by: -1 };
      if (key.rightArrow || input === ' ') return { type: 'form-cycle', by: 1 };
      return undefined;
    }
    if (key.backspace || key.delete) return { type: 'form-erase' };
    if (key.ctrl || key.meta) return undefined;
    // A paste arrives as one chunk: keep its printable characters.
    const text = [...input].filter((c) => c >= ' ' && c !== '\x7f').join('');
    return text === '' ? undefined : { type: 'form-type', text };
  }
  if (key.upArrow || input === 'k') return { type: 'move', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'move', by: 1 };
  if (key.return) return { type: 'knock' };
  if (input === 'a') return { type: 'add' };
  if (input === 'e') return { type: 'edit' };
  if (input === 'd') return { type: 'delete' };
  if (input === 'r') return { type: 'reload' };
  if (input === 'q' || key.escape) return { type: 'quit' };
  return undefined;
}
