// Parsers of option values shared by the knock-server commands (commander's argParser):
// a bad value is an InvalidArgumentError naming the flag and what it takes.
import { InvalidArgumentError } from 'commander';

/** A whole number from `min` to `max`, digits only (no sign, no exponent). */
export const wholeNumber = (flag: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new InvalidArgumentError(
      `${flag} takes a whole number from ${min} to ${max} (got "${value}")`,
    );
  return n;
};
