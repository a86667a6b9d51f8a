import { Text } from 'ink';
import { describeRun } from '../format.js';
import type { KnockRun } from '../state.js';
import { useTheme } from '../theme.js';

export interface Props {
  run: KnockRun;
}

const COLORS: Record<KnockRun['phase'], string | undefined> = {
  resolving: undefined,
  knocking: undefined,
  verifying: 'yellow',
  open: 'green',
  closed: 'red',
  sent: undefined,
  failed: 'red',
};

/** The live status line of the last knock. */
export default function KnockStatus({ run }: Props) {
  const { paint } = useTheme();
  const name = COLORS[run.phase];
  return (
    <Text>
      <Text bold>{run.host}: </Text>
      <Text {...(name === undefined ? {} : paint(name))}>{describeRun(run)}</Text>
    </Text>
  );
}
