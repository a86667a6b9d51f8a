import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

/** What each key does, one line each (the `?` screen). */
export const KEY_HELP: readonly (readonly [string, string])[] = [
  ['↑ ↓  j k', 'move in the list'],
  [
    'Enter',
    'knock the selected host, then check that its port opened; the countdown starts from its open_for',
  ],
  ['v', 'verify only: is the port open now? (no knock; a closed port ends the countdown)'],
  [
    'c',
    "close: knock the profile's close_sequence (the server's Revoke door takes the grant back)",
  ],
  ['/', 'filter the list by host; Enter keeps the filter, Esc clears it'],
  ['a  e  d', 'add, edit, delete a profile (the file keeps its comments and order)'],
  ['r', 'read the profile file again'],
  ['?', 'this screen'],
  ['q  Esc', 'quit (Esc first clears a filter)'],
];

export default function HelpScreen() {
  const { paint } = useTheme();
  return (
    <Box flexDirection="column">
      <Text bold>Keys</Text>
      {KEY_HELP.map(([keys, what]) => (
        <Box key={keys}>
          <Box width={12} flexShrink={0}>
            <Text {...paint('cyan')}>{keys}</Text>
          </Box>
          <Text wrap="wrap">{what}</Text>
        </Box>
      ))}
    </Box>
  );
}
