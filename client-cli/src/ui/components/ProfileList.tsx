import { describeSequence, type Profile } from '@knock/shared';
import { Box, Text } from 'ink';

export interface Props {
  profiles: readonly Profile[];
  selected: number;
}

const HOST_WIDTH = 30;
const SEQUENCE_WIDTH = 38;

/** One row per profile: host, sequence (or one-time file), verified port. */
export default function ProfileList({ profiles, selected }: Props) {
  return (
    <Box flexDirection="column">
      <Box>
        <Text dimColor>{'  '}</Text>
        <Box width={HOST_WIDTH}>
          <Text dimColor>HOST</Text>
        </Box>
        <Box width={SEQUENCE_WIDTH}>
          <Text dimColor>SEQUENCE</Text>
        </Box>
        <Text dimColor>PORT</Text>
      </Box>
      {profiles.map((profile, i) => {
        const active = i === selected;
        return (
          <Box key={profile.host}>
            <Text color="cyan">{active ? '❯ ' : '  '}</Text>
            <Box width={HOST_WIDTH}>
              <Text bold={active} wrap="truncate-end">
                {profile.host}
              </Text>
            </Box>
            <Box width={SEQUENCE_WIDTH} paddingRight={2}>
              <Text wrap="truncate-middle">{describeSequence(profile)}</Text>
            </Box>
            <Text>{profile.port === undefined ? '—' : String(profile.port)}</Text>
          </Box>
        );
      })}
    </Box>
  );
}
