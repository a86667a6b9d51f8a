import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

export interface Props {
  message: string;
}

/** The profile file is invalid: show where and why, and keep the file untouched. */
export default function LoadError({ message }: Props) {
  const { paint } = useTheme();
  return (
    <Box flexDirection="column">
      <Text {...paint('red')} bold>
        Cannot use the profile file:
      </Text>
      <Box marginLeft={2}>
        <Text>{message}</Text>
      </Box>
      <Text>Fix the file in an editor, then press r to reload (q quits).</Text>
    </Box>
  );
}
