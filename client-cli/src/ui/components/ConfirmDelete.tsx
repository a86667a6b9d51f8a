import { Text } from 'ink';
import { useTheme } from '../theme.js';

export interface Props {
  host: string;
  saving: boolean;
}

export default function ConfirmDelete({ host, saving }: Props) {
  const { paint } = useTheme();
  if (saving) return <Text>deleting {host}…</Text>;
  return (
    <Text>
      Delete the profile for <Text bold>{host}</Text>? <Text color={paint('cyan')}>y</Text>es /{' '}
      <Text color={paint('cyan')}>n</Text>o
    </Text>
  );
}
