import { Text } from 'ink';
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
  return <Text dimColor>{HELP[screen]}</Text>;
}
