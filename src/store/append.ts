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
    if (endsMidLine(fd) && endsMidLine(fd, REPAIR_WAIT_MS)) writeSync(fd, '\n')
  } catch (error) {
    closeSync(fd)
    throw error
  }
  return fd
}

/** How long the file must stay mid-line before it counts as torn rather than being appended to. */
const REPAIR_WAIT_MS = 20
const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * Whether the file ends without a newline, looked at after `waitMs`. Another process's append that is
 * under way can show as a file ending mid-line for an instant; a torn line from a killed writer stays so.
 * Looking twice keeps a live appender's line from getting a stray newline (an empty line) after it.
 */
function endsMidLine(fd: number, waitMs = 0): boolean {
  if (waitMs > 0) Atomics.wait(pause, 0, 0, waitMs)
  const size = fstatSync(fd).size
  const last = Buffer.alloc(1)
  return size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== NEWLINE
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
