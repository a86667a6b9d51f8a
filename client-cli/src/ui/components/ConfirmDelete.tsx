import { Text } from 'ink';

export interface Props {
  host: string;
  saving: boolean;
}

export default function ConfirmDelete({ host, saving }: Props) {
  if (saving) return <Text>deleting {host}…</Text>;
  return (
    <Text>
      Delete the profile for <Text bold>{host}</Text>? <Text color="cyan">y</Text>es /{' '}
      <Text color="cyan">n</Text>o
    </Text>
  );
}
