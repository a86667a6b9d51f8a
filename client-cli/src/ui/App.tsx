import { Box, Text, useApp, useInput } from 'ink';
import ConfirmDelete from './components/ConfirmDelete.js';
import EmptyState from './components/EmptyState.js';
import Header from './components/Header.js';
import HelpBar from './components/HelpBar.js';
import HelpScreen from './components/HelpScreen.js';
import KnockStatus from './components/KnockStatus.js';
import LoadError from './components/LoadError.js';
import ProfileForm from './components/ProfileForm.js';
import ProfileList from './components/ProfileList.js';
import useExpiry, { STATUS_MS } from './hooks/use-expiry.js';
import useClock, { realClock, type TuiClock } from './hooks/use-clock.js';
import useKnock from './hooks/use-knock.js';
import useOtsLeft from './hooks/use-ots-left.js';
import useProfileStore from './hooks/use-profile-store.js';
import useTuiState from './hooks/use-tui-state.js';
import { commandForKey, splitKeys } from './keys.js';
import type { KnockService, ProfileStore } from '@knock/shared/node';
import { initialState, secondsLeft, selectedProfile, visibleProfiles } from './state.js';
import { useTheme } from './theme.js';

export interface Props {
  store: ProfileStore;
  knocker: KnockService;
  /** Told the exit code before the app exits: 130 after Ctrl+C, 0 after q. */
  onExit?: (code: number) => void;
  /** Unused sequences left in a one-time file (undefined: unknown). */
  countOts?: (path: string) => Promise<number | undefined>;
  /** A service name's port (`ssh` → 22), for the verify-port field. */
  servicePort?: (name: string) => number | undefined;
  /** How long the last message stays (tests shorten it). */
  statusMs?: number;
  /** The clock of the countdowns (tests inject one they move by hand). */
  clock?: TuiClock;
}

/** Ctrl+C ends the TUI like an interrupted program: exit status 128 + SIGINT. */
export const INTERRUPTED = 130;

/** `knock ui`: the profile list, the live knock status, and the add/edit/delete forms. */
export default function App({
  store,
  knocker,
  onExit,
  countOts,
  servicePort,
  statusMs = STATUS_MS,
  clock = realClock,
}: Props) {
  const { exit } = useApp();
  const { paint } = useTheme();
  const [state, dispatch, latest] = useTuiState(() => initialState(store.path, servicePort));
  useProfileStore(store, state, dispatch);
  useExpiry(state, dispatch, statusMs);
  useOtsLeft(countOts, state, dispatch);
  useClock(clock, dispatch);
  const knock = useKnock(knocker, dispatch, store.path, clock.now);

  useInput((chunk, chunkKey) => {
    for (const { input, key } of splitKeys(chunk, chunkKey)) {
      const command = commandForKey(latest.current, input, key);
      // Any key makes room: the last message and a finished knock's status go.
      dispatch({ type: 'key' });
      if (!command) continue;
      if (command.type === 'quit') {
        onExit?.(command.interrupted ? INTERRUPTED : 0);
        exit();
        return;
      }
      if (command.type === 'knock') {
        const profile = selectedProfile(latest.current);
        if (profile) knock(profile, command.mode);
      } else dispatch(command);
    }
  });

  const { screen } = state;
  const listed = state.profiles.length > 0 || state.invalid.length > 0;
  return (
    <Box flexDirection="column">
      <Header path={state.path} />
      <Box marginY={1} flexDirection="column">
        {state.status === 'loading' ? <Text>loading profiles…</Text> : null}
        {state.status === 'error' ? <LoadError message={state.loadError ?? ''} /> : null}
        {state.status === 'ready' && !listed && screen.kind === 'list' ? (
          <EmptyState path={state.path} exists={state.exists} />
        ) : null}
        {screen.kind === 'help' ? <HelpScreen /> : null}
        {state.filtering || state.filter !== '' ? (
          <Text>
            <Text {...paint('cyan')}>/</Text> {state.filter}
            {state.filtering ? '▌' : ''}
            {state.filtering ? '' : '  (Esc clears)'}
          </Text>
        ) : null}
        {state.status === 'ready' && listed && screen.kind !== 'form' && screen.kind !== 'help' ? (
          <ProfileList
            left={(host) => secondsLeft(state, host)}
            profiles={visibleProfiles(state)}
            invalid={state.invalid}
            selected={state.selected}
            otsLeft={state.otsLeft}
            otherProblems={state.otherProblems}
          />
        ) : null}
        {screen.kind === 'form' ? (
          <ProfileForm
            adding={screen.original === null}
            draft={screen.draft}
            field={screen.field}
            errors={screen.errors}
            saving={state.saving !== undefined}
          />
        ) : null}
      </Box>
      {screen.kind === 'confirm-delete' ? (
        <ConfirmDelete host={screen.host} saving={state.saving !== undefined} />
      ) : null}
      {state.run && screen.kind === 'list' ? <KnockStatus run={state.run} /> : null}
      {state.notice ? (
        <Text {...paint(state.notice.tone === 'error' ? 'red' : 'green')}>{state.notice.text}</Text>
      ) : null}
      <HelpBar screen={screen.kind} />
    </Box>
  );
}
