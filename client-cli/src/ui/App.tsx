import { Box, Text, useApp, useInput } from 'ink';
import ConfirmDelete from './components/ConfirmDelete.js';
import EmptyState from './components/EmptyState.js';
import Header from './components/Header.js';
import HelpBar from './components/HelpBar.js';
import KnockStatus from './components/KnockStatus.js';
import LoadError from './components/LoadError.js';
import ProfileForm from './components/ProfileForm.js';
import ProfileList from './components/ProfileList.js';
import useKnock from './hooks/use-knock.js';
import useProfileStore from './hooks/use-profile-store.js';
import useTuiState from './hooks/use-tui-state.js';
import { commandForKey, splitKeys } from './keys.js';
import type { KnockService, ProfileStore } from '@knock/shared/node';
import { initialState, selectedProfile } from './state.js';

export interface Props {
  store: ProfileStore;
  knocker: KnockService;
}

/** `knock ui`: the profile list, the live knock status, and the add/edit/delete forms. */
export default function App({ store, knocker }: Props) {
  const { exit } = useApp();
  const [state, dispatch, latest] = useTuiState(() => initialState(store.path));
  useProfileStore(store, state, dispatch);
  const knock = useKnock(knocker, dispatch);

  useInput((chunk, chunkKey) => {
    for (const { input, key } of splitKeys(chunk, chunkKey)) {
      const command = commandForKey(latest.current, input, key);
      if (!command) continue;
      if (command.type === 'quit') {
        exit();
        return;
      }
      if (command.type === 'knock') {
        const profile = selectedProfile(latest.current);
        if (profile) knock(profile);
      } else dispatch(command);
    }
  });

  const { screen } = state;
  return (
    <Box flexDirection="column">
      <Header path={state.path} />
      <Box marginY={1} flexDirection="column">
        {state.status === 'loading' ? <Text>loading profiles…</Text> : null}
        {state.status === 'error' ? <LoadError message={state.loadError ?? ''} /> : null}
        {state.status === 'ready' && state.profiles.length === 0 && screen.kind === 'list' ? (
          <EmptyState path={state.path} exists={state.exists} />
        ) : null}
        {state.status === 'ready' && state.profiles.length > 0 && screen.kind !== 'form' ? (
          <ProfileList profiles={state.profiles} selected={state.selected} />
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
        <Text color={state.notice.tone === 'error' ? 'red' : 'green'}>{state.notice.text}</Text>
      ) : null}
      <HelpBar screen={screen.kind} />
    </Box>
  );
}
