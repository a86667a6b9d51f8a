import { Text } from 'ink';
import { useTheme } from '../theme.js';
import type { Screen } from '../state.js';

export interface Props {
  screen: Screen['kind'];
}

const HELP: Record<Screen['kind'], string> = {
  list: '↑↓/jk move · Enter knock · a add · e edit · d delete · r reload · q quit',
  form: 'Tab/↑↓ field · ←→ family · Enter save · Esc cancel',
  'confirm-delete': 'y delete · n/Esc keep',
};

export default function HelpBar({ screen }: Props) {
  const { dim } = useTheme();
  return <Text dimColor={dim}>{HELP[screen]}</Text>;
}
