/** One CSV line (RFC 4180): a field with a comma, a quote or a line break is quoted, its quotes doubled; null is empty. */
export function csvLine(fields: unknown[]): string {
  return `${fields
    .map((v) => {
      if (v === null || v === undefined) return '';
      const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',')}\n`;
}
