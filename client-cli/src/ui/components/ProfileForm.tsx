import { FAMILIES, type DraftErrors, type DraftField, type ProfileDraft } from '@knock/shared';
import { Box, Text } from 'ink';

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
};

const PLACEHOLDERS: Partial<Record<DraftField, string>> = {
  host: 'ssh.example.org',
  sequence: '7000,8000:udp,9000, or paste a knock:// URI',
  oneTimeSequences: 'instead of a sequence: path to a one-time-sequence file',
  port: 'empty: do not verify',
};

const LABEL_WIDTH = 16;

/** The add/edit form; each field shows its error inline, under it. */
export default function ProfileForm({ adding, draft, field, errors, saving }: Props) {
  const row = (name: Exclude<DraftField, 'family'>) => {
    const focused = name === field;
    const value = draft[name];
    return (
      <Box key={name} flexDirection="column">
        <Box>
          <Box width={LABEL_WIDTH}>
            <Text color={focused ? 'cyan' : undefined}>
              {focused ? '❯ ' : '  '}
              {LABELS[name]}
            </Text>
          </Box>
          {value === '' && !focused ? (
            <Text dimColor>{PLACEHOLDERS[name] ?? ''}</Text>
          ) : (
            <Text>
              {value}
              {focused ? <Text inverse> </Text> : null}
            </Text>
          )}
        </Box>
        <FieldError error={errors[name]} />
      </Box>
    );
  };
  const familyFocused = field === 'family';
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{adding ? 'New profile' : `Edit ${draft.host}`}</Text>
      {row('host')}
      {row('sequence')}
      {row('oneTimeSequences')}
      {row('port')}
      <Box flexDirection="column">
        <Box>
          <Box width={LABEL_WIDTH}>
            <Text color={familyFocused ? 'cyan' : undefined}>
              {familyFocused ? '❯ ' : '  '}
              {LABELS.family}
            </Text>
          </Box>
          {FAMILIES.map((family) => (
            <Text key={family}>
              {family === draft.family ? (
                <Text inverse={familyFocused} bold>
                  {` ${family} `}
                </Text>
              ) : (
                <Text dimColor>{` ${family} `}</Text>
              )}
            </Text>
          ))}
        </Box>
        <FieldError error={errors.family} />
      </Box>
      {row('delayMs')}
      {saving ? <Text>saving…</Text> : null}
    </Box>
  );
}

function FieldError({ error }: { error: string | undefined }) {
  if (error === undefined) return null;
  return (
    <Box marginLeft={LABEL_WIDTH}>
      <Text color="red">✗ {error}</Text>
    </Box>
  );
}
