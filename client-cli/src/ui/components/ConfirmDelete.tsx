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
      Delete the profile for <Text bold>{host}</Text>? <Text {...paint('cyan')}>y</Text>es /{' '}
      <Text {...paint('cyan')}>n</Text>o
    </Text>
  );
}
