import type { CliDeps } from '../deps.js';

export interface OtsGenerateOptions {
  count: number;
  length: number;
  udpRatio: number;
  minPort?: number;
  maxPort?: number;
  force?: boolean;
}

/** `knock ots generate FILE`: the same generator and file format as `knock-server ots generate`. */
export async function runOtsGenerate(
  deps: CliDeps,
  file: string,
  options: OtsGenerateOptions,
): Promise<void> {
  await deps.generateOtsFile(file, {
    count: options.count,
    length: options.length,
    udpRatio: options.udpRatio,
    ...(options.minPort !== undefined ? { minPort: options.minPort } : {}),
    ...(options.maxPort !== undefined ? { maxPort: options.maxPort } : {}),
    ...(options.force ? { force: true } : {}),
  });
  deps.stdout.write(
    `wrote ${options.count} one-time sequences of ${options.length} knocks to ${file}\n`,
  );
}
