import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

export interface Props {
  path: string;
  exists: boolean;
}

/** No profiles yet: say where they live and how to add one. */
export default function EmptyState({ path, exists }: Props) {
  const { paint, dim } = useTheme();
  return (
    <Box flexDirection="column">
      <Text bold>No profiles yet.</Text>
      <Text>
        Profiles are read from {path}
        {exists ? '' : ' (not created yet)'}.
      </Text>
      <Text>
        Press <Text {...paint('cyan')}>a</Text> to add one, or write it by hand:
      </Text>
      <Box flexDirection="column" marginLeft={2} marginTop={1}>
        <Text dimColor={dim}>[hosts."ssh.example.org"]</Text>
        <Text dimColor={dim}>sequence = "7000,8000,9000"</Text>
        <Text dimColor={dim}>port = 22</Text>
      </Box>
    </Box>
  );
}
