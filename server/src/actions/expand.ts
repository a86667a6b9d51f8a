import { KnockError } from '@knock/shared';

/** knockd expands commands into a PATH_MAX buffer and refuses any that would not fit. */
export const MAX_COMMAND_BYTES = 4096;

/**
 * knockd's `%IP%` substitution: every occurrence becomes the knocker's address (the
 * text the capture printed, never a looked-up name, so nothing a stranger controls
 * reaches the shell). Throws KnockError `command.tooLong` when the result would
 * reach 4096 bytes, where knockd runs nothing.
 */
export function expandCommand(template: string, ip: string): string {
  const command = template.split('%IP%').join(ip);
  const bytes = Buffer.byteLength(command, 'utf8');
  if (bytes >= MAX_COMMAND_BYTES) {
    throw new KnockError(
      'command.tooLong',
      `the command for ${ip} is ${bytes} bytes once %IP% is replaced (knockd's limit: ${MAX_COMMAND_BYTES - 1})`,
      { hint: 'shorten the command, e.g. move it into a script and call that' },
    );
  }
  return command;
}
