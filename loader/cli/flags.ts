/** Splits the CLI's words from its flags. */
export interface Flags {
  words: string[];
  from?: string;
  json: boolean;
  yes: boolean;
  dryRun: boolean;
  addColumns: boolean;
  strict: boolean;
  /** `sql --url`: print the database's connection string. */
  url: boolean;
  /** Flags with a value that a local command reads (--batch, --op, --game, --prefix, --port ...). */
  values: Record<string, string>;
}

const VALUE_FLAGS = ['batch', 'op', 'game', 'prefix', 'port', 'games', 'out', 'seed', 'max-rejects'];

/** `--max-rejects 50` (rows) or `--max-rejects 5%` (of a file's rows). */
export function parseMaxRejects(v: string): { count?: number; ratio?: number } {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v.trim());
  if (!m || (!m[2] && !Number.isSafeInteger(Number(m[1]))))
    throw new Error(`--max-rejects takes a number of rows (50) or a share of a file's rows (5%), not ${JSON.stringify(v)}`);
  return m[2] ? { ratio: Math.min(1, Number(m[1]) / 100) } : { count: Number(m[1]) };
}

export function parseFlags(argv: string[]): Flags {
  const f: Flags = { words: [], json: false, yes: false, dryRun: false, addColumns: false, strict: false, url: false, values: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--from') {
      const v = argv[++i];
      if (!v) throw new Error('--from needs a folder');
      f.from = v;
    } else if (a.startsWith('--from=')) f.from = a.slice(7);
    else if (a === '--json') f.json = true;
    else if (a === '--yes' || a === '-y') f.yes = true;
    else if (a === '--dry-run') f.dryRun = true;
    else if (a === '--add-columns') f.addColumns = true;
    else if (a === '--strict') f.strict = true;
    else if (a === '--url') f.url = true;
    else if (a.startsWith('--') && VALUE_FLAGS.includes(a.slice(2).split('=')[0]!)) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      if (name === 'max-rejects') parseMaxRejects(v);
      f.values[name] = v;
    } else f.words.push(a);
  }
  return f;
}
