/**
 * The distinct values of one field of a file, gathered as its records pass the reader
 * (csv-records.ts): for a file loaded straight into its table, bs_apply_loaded looks up
 * each distinct value of a relation once, and reads the table again only for a value
 * that points nowhere.
 */

const QUOTE = 0x22;

/** Beyond this many distinct values a field's values are not kept (memory stays flat). */
const MAX_DISTINCT = 50_000;

/**
 * Per value a hash of its bytes, a lookup and a byte compare; a string is made only for
 * a value not seen before. The bytes are kept in one growing buffer. Empty is NULL and
 * not kept; a quoted value gives up (its bytes are not its value), and so does a field
 * with too many values.
 */
export class DistinctValues {
  private arena = Buffer.allocUnsafe(1 << 12);
  private used = 0;
  private starts: number[] = [];
  private lens: number[] = [];
  /** hash → index of the value (or values: a collision) in starts/lens */
  private byHash: Map<number, number | number[]> | null = new Map();
  /** The value seen last (exports are sorted: games, teams, events repeat row after row). */
  private last = -1;

  /** The values, as strings; null when given up. */
  get values(): string[] | null {
    if (!this.byHash) return null;
    return this.starts.map((st, i) => this.arena.toString('utf8', st, st + this.lens[i]!));
  }

  /** The value `buf[s, e)`, as the database stores it. */
  see(buf: Buffer, s: number, e: number): void {
    const byHash = this.byHash;
    if (byHash === null || e === s) return;
    const len = e - s;
    if (buf[s] === QUOTE || len > 256) {
      this.giveUp();
      return;
    }
    if (this.last >= 0 && this.same(this.last, buf, s, len)) return;
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 16777619);
    const at = byHash.get(h);
    if (at === undefined) {
      byHash.set(h, (this.last = this.keep(buf, s, len)));
    } else if (typeof at === 'number') {
      if (this.same(at, buf, s, len)) {
        this.last = at;
        return;
      }
      byHash.set(h, [at, (this.last = this.keep(buf, s, len))]);
    } else {
      for (const k of at) {
        if (this.same(k, buf, s, len)) {
          this.last = k;
          return;
        }
      }
      at.push((this.last = this.keep(buf, s, len)));
    }
    if (this.starts.length > MAX_DISTINCT) this.giveUp();
  }

  private same(k: number, buf: Buffer, s: number, len: number): boolean {
    if (this.lens[k] !== len) return false;
    const a = this.arena;
    for (let i = 0, st = this.starts[k]!; i < len; i++) if (a[st + i] !== buf[s + i]) return false;
    return true;
  }

  private keep(buf: Buffer, s: number, len: number): number {
    if (this.used + len > this.arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.arena.length, this.used + len));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
    buf.copy(this.arena, this.used, s, s + len);
    this.starts.push(this.used);
    this.lens.push(len);
    this.used += len;
    return this.starts.length - 1;
  }

  private giveUp(): void {
    this.byHash = null;
    this.last = -1;
    this.arena = Buffer.alloc(0);
    this.starts = [];
    this.lens = [];
  }
}
