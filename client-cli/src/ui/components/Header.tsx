import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

export interface Props {
  path: string;
}

export default function Header({ path }: Props) {
  const { paint, dim } = useTheme();
  return (
    <Box>
      <Text bold {...paint('cyan')}>
        knock
      </Text>
      <Text dimColor={dim} wrap="truncate-middle">
        {' '}
        · profiles in {path || '…'}
      </Text>
    </Box>
  );
}
