/**
 * Plain-text tables for the command line: columns two spaces apart, each as wide as its widest cell (in
 * terminal columns: a CJK character takes two). Control characters in cells are shown escaped.
 */
import { displayWidth, printable } from '../printable.js'

export function table(header: string[], rows: string[][], { underline = false } = {}): string {
  const safe = rows.map((r) => r.map(printable))
  const widths = header.map((h, i) => safe.reduce((w, r) => Math.max(w, displayWidth(r[i]!)), displayWidth(h)))
  const lines = underline ? [header, widths.map((w) => '-'.repeat(w)), ...safe] : [header, ...safe]
  return lines.map((r) => formatRow(r, widths)).join('')
}

/** One row padded to `widths` (the last cell is not padded), ending with a newline. */
export function formatRow(cells: string[], widths: number[]): string {
  return `${cells
    .map((cell, i) => {
      const c = printable(cell)
      return i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - displayWidth(c)))
    })
    .join('  ')
    .trimEnd()}\n`
}
