import { describeSequence, type InvalidProfile, type Profile } from '@knock/shared';
import { Box, Text, useStdout, type TextProps } from 'ink';
import { countdown } from '../state.js';
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
  /** Seconds left of a host's grant (the countdown column), when knocked open. */
  left?: (host: string) => number | undefined;
}

const PORT_WIDTH = 6;
const FAMILY_WIDTH = 7;
const OPEN_WIDTH = 12;

/**
 * Column widths for a terminal `columns` wide: every row stays on one line. The OPEN
 * column (the countdowns) takes room only while some host shows one.
 */
export function columns(width: number, open = 0): { host: number; sequence: number } {
  const free = Math.max(20, width - 2 - PORT_WIDTH - FAMILY_WIDTH - open - 1);
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
  left = () => undefined,
}: Props) {
  const { stdout } = useStdout();
  const { paint, dim } = useTheme();
  const anyOpen = profiles.some((p) => left(p.host) !== undefined);
  const width = columns(stdout.columns || 80, anyOpen ? OPEN_WIDTH : 0);
  const cell = (
    w: number,
    text: string,
    props: Pick<TextProps, 'bold' | 'color' | 'dimColor'> = {},
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
        {anyOpen ? cell(OPEN_WIDTH, 'OPEN', { dimColor: dim }) : null}
      </Box>
      {profiles.map((profile, i) => {
        const active = i === selected;
        const path = profile.oneTimeSequences;
        // Own keys only: a path may be named like an Object.prototype property.
        const remaining =
          path !== undefined && Object.hasOwn(otsLeft, path) ? otsLeft[path] : undefined;
        const open = left(profile.host);
        return (
          <Box key={profile.host}>
            <Text {...paint('cyan')}>{active ? '❯ ' : '  '}</Text>
            {cell(width.host, profile.host, { bold: active })}
            {cell(
              width.sequence,
              sequenceText(profile, remaining),
              remaining === 0 ? paint('red') : {},
            )}
            {cell(PORT_WIDTH, profile.port === undefined ? '—' : String(profile.port))}
            {cell(FAMILY_WIDTH, profile.family)}
            {!anyOpen
              ? null
              : open === undefined
                ? cell(OPEN_WIDTH, '')
                : cell(
                    OPEN_WIDTH,
                    `${countdown(open)} left`,
                    paint(open <= 60 ? 'yellow' : 'green'),
                  )}
          </Box>
        );
      })}
      {invalid.map((broken) => (
        <Box key={`invalid:${broken.host}`}>
          <Box width={2} flexShrink={0}>
            <Text {...paint('red')}>✗</Text>
          </Box>
          {cell(width.host, broken.host)}
          <Box flexShrink={1}>
            <Text {...paint('red')} wrap="truncate-end">
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
