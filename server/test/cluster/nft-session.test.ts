/** NftSession against a stand-in for `nft -i` that answers as nft does (errors on stderr). */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NftSession } from '../../src/cluster/nft-session.js';

// Like nft -i: each line is a transaction; a bad one (containing "bad") or anything that is
// not a command prints "Error: …", the line, a caret line, on stderr. "hang" never answers.
const FAKE_NFT = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const applied = [];
let hung = false;
rl.on('line', (line) => {
  if (hung || line.includes('hang')) return void (hung = true);
  if (line.includes('die')) process.exit(1);
  if (line.startsWith('add') && !line.includes('bad')) { applied.push(line); return; }
  const what = line.startsWith('knock-ack') ? 'syntax error, unexpected newline, expecting string' : 'Could not process rule: No such file or directory';
  process.stderr.write('Error: ' + what + '\\n' + line + '\\n' + ' '.repeat(line.length) + '^\\n');
});
`;
const fake = () => spawn(process.execPath, ['-e', FAKE_NFT], { stdio: ['pipe', 'pipe', 'pipe'] });

describe('NftSession', () => {
  it('one line per transaction, answered in order; a failed one rejects with the error of nft', async () => {
    const session = new NftSession(fake);
    await expect(
      session.apply('add element inet knock granted4 { 192.0.2.1 . tcp . 22 }\nadd element x\n'),
    ).resolves.toBeUndefined();
    await expect(session.apply('add element inet knock granted4 { bad }\n')).rejects.toThrow(
      'nft: Error: Could not process rule: No such file or directory',
    );
    await expect(
      session.apply('add element inet knock banned4 { 192.0.2.9 }\n'),
    ).resolves.toBeUndefined();
    session.close();
  });

  it('changes asked for in one turn go as one transaction: all applied, or all rejected', async () => {
    const session = new NftSession(fake);
    const good = await Promise.allSettled([session.apply('add a'), session.apply('add b')]);
    expect(good.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const mixed = await Promise.allSettled([
      session.apply('add c'),
      session.apply('add bad'),
      session.apply('add d'),
    ]);
    expect(mixed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    session.close();
  });

  it('rejects when nft does not answer in time or dies, then starts a new one', async () => {
    const session = new NftSession(fake, 200);
    await expect(session.apply('add hang')).rejects.toThrow(/did not answer in time/);
    await expect(session.apply('add die')).rejects.toThrow(/exited/);
    await expect(session.apply('add element ok')).resolves.toBeUndefined();
    session.close();
    await expect(session.apply('add element ok')).rejects.toThrow(/closed/);
  });

  it('a missing nft: rejected (the caller falls back), and not tried again past 3 failures', async () => {
    let spawned = 0;
    const session = new NftSession(() => {
      spawned += 1;
      return spawn('/nonexistent/nft', ['-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
    });
    for (let i = 0; i < 5; i++) await expect(session.apply('add element x')).rejects.toThrow();
    expect(spawned).toBe(3);
  });
});
