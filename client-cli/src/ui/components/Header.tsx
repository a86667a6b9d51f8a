import { Box, Text } from 'ink';

export interface Props {
  path: string;
}

export default function Header({ path }: Props) {
  return (
    <Box>
      <Text bold color="cyan">
        knock
      </Text>
      <Text dimColor> · profiles in {path || '…'}</Text>
    </Box>
  );
}
