import { closeSync, fstatSync, openSync, readSync, writeSync, constants } from 'node:fs'

/**
 * Largest single `write()` of a batch. On Linux a `write()` to a file opened with O_APPEND holds the
 * inode lock for the whole call on local filesystems (ext4, xfs, btrfs, tmpfs), so the lines of one call
 * never interleave with another process's, whatever the size. The kernel may still return a short write
 * (a signal, a full disk), and then the rest goes out as a second call that another appender can slip
 * in front of. Splitting batches on line boundaries at 64 KiB keeps each call small enough that short
 * writes do not happen in practice, bounds what a failure can tear to one chunk, and costs next to
 * nothing (one syscall per ~64 KiB). A single line longer than this is written alone, whole.
 * @internal
 */
export const MAX_WRITE_BYTES = 64 * 1024

const NEWLINE = 0x0a

/**
 * Opens `path` for appending (created with mode 0600: the log holds prompts). When the file does not end
 * with a newline (an earlier writer was killed mid-line), a newline is written first so that the torn
 * fragment stays a line of its own, which readers skip, instead of corrupting the next event.
 * @internal
 */
export function openForAppend(path: string): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600)
  try {
    const size = fstatSync(fd).size
    const last = Buffer.alloc(1)
    if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== NEWLINE) writeSync(fd, '\n')
  } catch (error) {
    closeSync(fd)
    throw error
  }
  return fd
}

/**
 * Writes whole lines (`buf` ends with a newline) to an O_APPEND descriptor, in calls of at most
 * MAX_WRITE_BYTES split on line boundaries. Throws what the filesystem throws.
 * @internal
 */
export function appendLines(fd: number, buf: Buffer): void {
  let start = 0
  while (start < buf.length) {
    let end = buf.length
    if (end - start > MAX_WRITE_BYTES) {
      const cut = buf.lastIndexOf(NEWLINE, start + MAX_WRITE_BYTES - 1)
      end = cut >= start ? cut + 1 : buf.indexOf(NEWLINE, start) + 1
    }
    while (start < end) start += writeSync(fd, buf, start, end - start)
  }
}
