import { emptyDraft } from '@knock/shared';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import ProfileForm from '../../../src/ui/components/ProfileForm.js';

const lineOf = (frame: string, label: string): string =>
  frame.split('\n').find((line) => line.includes(label)) ?? '';

describe('ProfileForm', () => {
  it('shows the choices of family and keep_open on their rows, with the note after keep_open', () => {
    const draft = { ...emptyDraft(), host: 'ssh.example.org', family: 'ipv6' as const };
    const { lastFrame, unmount } = render(
      <ProfileForm adding={false} draft={draft} field="family" errors={{}} saving={false} />,
    );
    const frame = lastFrame() ?? '';
    expect(lineOf(frame, 'Family')).toMatch(/❯ Family\s+any {2}ipv4 {2}ipv6/);
    expect(lineOf(frame, 'Keep open')).toMatch(
      /Keep open\s+no {2}yes {2}knock ssh \/ proxy keep the door open while the session lives/,
    );
    unmount();
  });

  it("puts a choice field's problem under it", () => {
    const { lastFrame, unmount } = render(
      <ProfileForm
        adding
        draft={emptyDraft()}
        field="host"
        errors={{ keepOpen: 'keep_open needs open_for' }}
        saving={false}
      />,
    );
    const lines = (lastFrame() ?? '').split('\n');
    const row = lines.findIndex((line) => line.includes('Keep open'));
    expect(lines[row + 1]).toContain('✗ keep_open needs open_for');
    unmount();
  });
});
