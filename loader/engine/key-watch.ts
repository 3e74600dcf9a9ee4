/**
 * What the reader (csv-records.ts) learns about a file's key column as its records pass,
 * so the database is spared work:
 *   - KeyWatch: whether every key is greater (in byte order) than the one before — then
 *     no key repeats, and bs_apply need not look for duplicates (exports are written in
 *     key order) — and how many records have no key;
 *   - KeyLines: each key's line, for a table loaded without line numbers (a small file
 *     into a table emptied by DELETE, where rows may land anywhere).
 */

const QUOTE = 0x22;

/** The most keys whose lines the reader keeps (small files only take that way). */
export const MAX_KEY_LINES = 100_000;

/** A text key's values (its bytes are its value). */
export class KeyWatch {
  /** Every key so far is greater than the one before: no key repeats. */
  increasing = true;
  /** Records whose key is empty (or one of pandas' missing-value words). */
  missing = 0;
  private prev = Buffer.alloc(256);
  private prevLen = -1;

  /** The key `rec[s, e)` of the next record. */
  see(rec: Buffer, s: number, e: number): void {
    if (e === s) {
      this.missing++;
      return;
    }
    if (!this.increasing) return;
    if (rec[s] === QUOTE || e - s > 4096) {
      this.increasing = false; // quoted or huge keys: leave it to the database
      return;
    }
    if (this.prevLen >= 0 && rec.compare(this.prev, 0, this.prevLen, s, e) <= 0) {
      this.increasing = false;
      return;
    }
    if (e - s > this.prev.length) this.prev = Buffer.alloc(2 * (e - s));
    this.prevLen = rec.copy(this.prev, 0, s, e);
  }
}

/** Each key's line; given up past `max` keys. */
export class KeyLines {
  private lines: Map<string, number> | null = new Map();

  constructor(private readonly max: number) {}

  /** The key in `buf[s, e)` (as the database stores it) is on `line`. */
  see(buf: Buffer, s: number, e: number, line: number): void {
    const lines = this.lines;
    if (lines === null || e === s) return; // (an empty key: the table refuses it)
    if (lines.size >= this.max) {
      this.lines = null;
      return;
    }
    // a quoted key's value is what is inside the quotes, each "" one "
    const key = buf[s] === QUOTE ? buf.toString('utf8', s + 1, e - 1).replace(/""/g, '"') : buf.toString('utf8', s, e);
    lines.set(key, line);
  }

  /** key → line; null when not kept (more than `max` keys). */
  get byKey(): Record<string, number> | null {
    return this.lines && Object.fromEntries(this.lines);
  }
}
