import { describeSequence, type InvalidProfile, type Profile } from '@knock/shared';
import { Box, Text, useStdout } from 'ink';
import { useTheme } from '../theme.js';

export interface Props {
  profiles: readonly Profile[];
  /** Profiles with errors: listed after the others, marked, never selected. */
  invalid?: readonly InvalidProfile[];
  selected: number;
  /** Unused sequences left, by one-time file path. */
  otsLeft?: Readonly<Record<string, number>>;
  /** Other problems in the file (unknown keys…): counted, listed by knock check-profiles. */
  otherProblems?: number;
}

const PORT_WIDTH = 6;
const FAMILY_WIDTH = 7;

/** Column widths for a terminal `columns` wide: every row stays on one line. */
export function columns(width: number): { host: number; sequence: number } {
  const free = Math.max(20, width - 2 - PORT_WIDTH - FAMILY_WIDTH - 1);
  const host = Math.max(10, Math.min(30, Math.floor(free * 0.4)));
  return { host, sequence: Math.max(10, free - host) };
}

function sequenceText(profile: Profile, left: number | undefined): string {
  if (profile.oneTimeSequences === undefined || left === undefined)
    return describeSequence(profile);
  // The count first: a long path is cut at the end, the count stays visible.
  return `one-time (${left} left): ${profile.oneTimeSequences}`;
}

/** One row per profile: host, sequence (or one-time file and how many are left), port, family. */
export default function ProfileList({
  profiles,
  invalid = [],
  selected,
  otsLeft = {},
  otherProblems = 0,
}: Props) {
  const { stdout } = useStdout();
  const { paint, dim } = useTheme();
  const width = columns(stdout.columns || 80);
  const cell = (
    w: number,
    text: string,
    props: { bold?: boolean; color?: string | undefined; dimColor?: boolean } = {},
  ) => (
    <Box width={w} flexShrink={0} paddingRight={1}>
      <Text wrap="truncate-end" {...props}>
        {text}
      </Text>
    </Box>
  );
  return (
    <Box flexDirection="column">
      <Box>
        <Text>{'  '}</Text>
        {cell(width.host, 'HOST', { dimColor: dim })}
        {cell(width.sequence, 'SEQUENCE', { dimColor: dim })}
        {cell(PORT_WIDTH, 'PORT', { dimColor: dim })}
        {cell(FAMILY_WIDTH, 'FAMILY', { dimColor: dim })}
      </Box>
      {profiles.map((profile, i) => {
        const active = i === selected;
        const path = profile.oneTimeSequences;
        // Own keys only: a path may be named like an Object.prototype property.
        const left = path !== undefined && Object.hasOwn(otsLeft, path) ? otsLeft[path] : undefined;
        return (
          <Box key={profile.host}>
            <Text color={paint('cyan')}>{active ? '❯ ' : '  '}</Text>
            {cell(width.host, profile.host, { bold: active })}
            {cell(width.sequence, sequenceText(profile, left), {
              color: left === 0 ? paint('red') : undefined,
            })}
            {cell(PORT_WIDTH, profile.port === undefined ? '—' : String(profile.port))}
            {cell(FAMILY_WIDTH, profile.family)}
          </Box>
        );
      })}
      {invalid.map((broken) => (
        <Box key={`invalid:${broken.host}`}>
          <Box width={2} flexShrink={0}>
            <Text color={paint('red')}>✗</Text>
          </Box>
          {cell(width.host, broken.host)}
          <Box flexShrink={1}>
            <Text color={paint('red')} wrap="truncate-end">
              line {broken.line}: {broken.issues[0]?.message ?? 'invalid'}
            </Text>
          </Box>
        </Box>
      ))}
      {invalid.length > 0 ? (
        <Text dimColor={dim} wrap="truncate-end">
          ✗ cannot be used until fixed in an editor (knock check-profiles lists every problem)
        </Text>
      ) : null}
      {otherProblems > 0 ? (
        <Text dimColor={dim} wrap="truncate-end">
          {otherProblems === 1 ? '1 other problem' : `${otherProblems} other problems`} in the file:
          knock check-profiles lists them
        </Text>
      ) : null}
    </Box>
  );
}
