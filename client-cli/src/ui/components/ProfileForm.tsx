import {
  FAMILIES,
  KEEP_OPEN_CHOICES,
  type DraftErrors,
  type DraftField,
  type ProfileDraft,
} from '@knock/shared';
import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

export interface Props {
  adding: boolean;
  draft: ProfileDraft;
  field: DraftField;
  errors: DraftErrors;
  saving: boolean;
}

const LABELS: Record<DraftField, string> = {
  host: 'Host',
  sequence: 'Sequence',
  oneTimeSequences: 'One-time file',
  port: 'Verify port',
  family: 'Family',
  delayMs: 'Delay (ms)',
  openFor: 'Open for (s)',
  closeSequence: 'Close sequence',
  keepOpen: 'Keep open',
};

const PLACEHOLDERS: Partial<Record<DraftField, string>> = {
  host: 'ssh.example.org',
  sequence: '7000,8000:udp,9000, or paste a knock:// URI',
  oneTimeSequences: 'instead of a sequence: path to a one-time-sequence file',
  port: 'a port or service (ssh); empty: do not verify',
  openFor: "the server's Open_Timeout, e.g. 300: the countdown",
  closeSequence: "the knock of the server's Revoke door, e.g. 9000,8000,7000",
};

const LABEL_WIDTH = 16;

/** The add/edit form; each field shows its problems under it, one per line, as they are typed. */
export default function ProfileForm({ adding, draft, field, errors, saving }: Props) {
  const { paint, dim } = useTheme();
  const label = (name: DraftField) => {
    const focused = name === field;
    return (
      <Box width={LABEL_WIDTH} flexShrink={0}>
        <Text {...(focused ? paint('cyan') : {})} bold={focused && !dim} wrap="truncate-end">
          {focused ? '❯ ' : '  '}
          {LABELS[name]}
        </Text>
      </Box>
    );
  };
  const row = (name: Exclude<DraftField, 'family' | 'keepOpen'>) => {
    const focused = name === field;
    const value = draft[name];
    return (
      <Box key={name} flexDirection="column">
        <Box>
          {label(name)}
          {value === '' && !focused ? (
            <Text dimColor={dim} wrap="truncate-end">
              {PLACEHOLDERS[name] ?? ''}
            </Text>
          ) : (
            // The end of a long value (where the cursor is) stays visible.
            <Text wrap="truncate-start">
              {value}
              {focused ? <Text inverse> </Text> : null}
            </Text>
          )}
        </Box>
        <FieldError error={errors[name]} />
      </Box>
    );
  };
  /** A field picked from a few choices (←→): the chosen one highlighted, `note` after them. */
  const choiceRow = (name: 'family' | 'keepOpen', choices: readonly string[], note?: string) => (
    <Box flexDirection="column">
      <Box>
        {label(name)}
        {choices.map((choice) => (
          <Text key={choice}>
            {choice === draft[name] ? (
              <Text inverse={field === name} bold>
                {` ${choice} `}
              </Text>
            ) : (
              <Text dimColor={dim}>{` ${choice} `}</Text>
            )}
          </Text>
        ))}
        {note === undefined ? null : <Text dimColor={dim}> {note}</Text>}
      </Box>
      <FieldError error={errors[name]} />
    </Box>
  );
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold wrap="truncate-end">
        {adding ? 'New profile' : `Edit ${draft.host}`}
      </Text>
      {row('host')}
      {row('sequence')}
      {row('oneTimeSequences')}
      {row('port')}
      {choiceRow('family', FAMILIES)}
      {row('delayMs')}
      {row('openFor')}
      {row('closeSequence')}
      {choiceRow(
        'keepOpen',
        KEEP_OPEN_CHOICES,
        'knock ssh / proxy keep the door open while the session lives',
      )}
      {saving ? <Text>saving…</Text> : null}
    </Box>
  );
}

/** Every problem of the field, one per line. */
function FieldError({ error }: { error: string | undefined }) {
  const { paint } = useTheme();
  if (error === undefined) return null;
  return (
    <Box marginLeft={LABEL_WIDTH} flexDirection="column">
      {error.split('\n').map((line, i) => (
        <Text key={i} {...paint('red')}>
          ✗ {line}
        </Text>
      ))}
    </Box>
  );
}
