import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The file operations writeFileAtomic uses; tests replace some to simulate a crash. */
export interface AtomicFs {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  unlink: typeof fsp.unlink;
  stat: typeof fsp.stat;
  realpath: typeof fsp.realpath;
}

const realFs: AtomicFs = {
  open: fsp.open,
  rename: fsp.rename,
  unlink: fsp.unlink,
  stat: fsp.stat,
  realpath: fsp.realpath,
};

export interface AtomicWriteOptions {
  /** Mode of a new file (an existing file keeps its own). Default 0o600: these files hold secrets. */
  mode?: number;
  /** Injected file operations (tests). */
  fs?: Partial<AtomicFs>;
  /** Default process.platform: Windows cannot open a directory to fsync it. */
  platform?: NodeJS.Platform;
}

const isNotFound = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/**
 * An error about the temporary file, told about the file the caller asked for:
 * `ENOENT: no such file or directory, open '/etc/k.pid'`, never `'/etc/.k.pid.9252.….tmp'`.
 */
export function namingTarget(error: unknown, temp: string, path: string): unknown {
  if (!(error instanceof Error)) return error;
  error.message = error.message.replaceAll(temp, path);
  const errno = error as NodeJS.ErrnoException & { dest?: string };
  if (errno.path === temp) errno.path = path;
  if (errno.dest === temp) errno.dest = path;
  return error;
}

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the whole old
 * file or the whole new one: write a temporary file in the same directory, fsync it,
 * rename it over the target, fsync the directory. A symlink is followed (its target is
 * replaced, the link stays); an existing file keeps its mode and, for root, its owner.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const fs: AtomicFs = { ...realFs, ...options.fs };
  let target = path;
  try {
    target = await fs.realpath(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  let mode = options.mode ?? 0o600;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = await fs.stat(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }

  const dir = dirname(target);
  const temp = join(
    dir,
    `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  let renamed = false;
  try {
    const handle = await fs.open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      // open() applied the umask; give the file the mode it is meant to have.
      await handle.chmod(mode);
      if (owner && process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
    renamed = true;
  } catch (error) {
    throw namingTarget(error, temp, path);
  } finally {
    if (!renamed) await fs.unlink(temp).catch(() => undefined);
  }
  // Make the rename itself durable. Windows cannot open a directory (EISDIR/EPERM); its
  // rename (MoveFileEx) is journaled by NTFS, so there is nothing to sync there.
  if ((options.platform ?? process.platform) === 'win32') return;
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
