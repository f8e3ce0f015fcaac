/** Plain-text tables for the command line: columns two spaces apart, each as wide as its widest cell. */

export function table(header: string[], rows: string[][], { underline = false } = {}): string {
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length))
  const lines = underline ? [header, widths.map((w) => '-'.repeat(w)), ...rows] : [header, ...rows]
  return lines.map((r) => formatRow(r, widths)).join('')
}

/** One row padded to `widths` (the last cell is not padded), ending with a newline. */
export function formatRow(cells: string[], widths: number[]): string {
  return `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`
}
