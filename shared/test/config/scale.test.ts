/**
 * Issue 9 item 19: the duplicate-door check was quadratic (16,889 sections: 0.9 s; 60,000:
 * 14.5 s). Now one map lookup per header: 60,000 sections parse and lint in well under a
 * second on an idle machine. The bound is generous (a loaded CI machine), the quadratic
 * version is far beyond it.
 */
import { describe, expect, it } from 'vitest';
import { lintConfig, parseConfig } from '@knock/shared';

const SECTIONS = 60_000;

function bigConfig(): string {
  const parts: string[] = [];
  for (let i = 0; i < SECTIONS; i++) {
    // Every 1000th door repeats a name, another the sequence of an earlier door.
    const name = i % 1000 === 999 ? `d${i - 1}` : `d${i}`;
    const port = i % 1000 === 500 ? 1 : (i % 65535) + 1;
    parts.push(`[${name}]\n  Sequence = ${port},${(i % 7) + 1}\n  Command = true\n`);
  }
  return parts.join('');
}

describe('a config with tens of thousands of doors', () => {
  it('parses and lints in linear time', { timeout: 60_000 }, () => {
    const text = bigConfig();
    const started = performance.now();
    const parsed = parseConfig(text, 'big.conf');
    const lint = lintConfig(text, parsed.config, 'big.conf');
    const elapsed = performance.now() - started;
    expect(parsed.config.doors).toHaveLength(SECTIONS);
    expect(parsed.issues.filter((i) => i.code === 'config.door.duplicate')).toHaveLength(
      SECTIONS / 1000,
    );
    expect(lint.filter((i) => i.code === 'config.door.sameSequence').length).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(8000);
  });
});
