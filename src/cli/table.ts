/** A plain-text table for the terminal: columns padded to their widest cell, long cells cut. */
export interface Column {
  title: string;
  /** Cells longer than this end in `…`. default 60 */
  max?: number;
  align?: 'left' | 'right';
}

export function table(columns: Column[], rows: string[][]): string {
  const cells = rows.map((row) => columns.map((c, i) => cut(oneLine(row[i] ?? ''), c.max ?? 60)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (columns[i]?.align === 'right' ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(max - 1, 1))}…` : text;
}
