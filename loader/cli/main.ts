/**
 * `npx benchsight <words>`: the command line. It translates arguments into calls of
 * the core and the result into text (or JSON) and an exit code; nothing more.
 */
import { configFromEnv, ConfigError } from '../config';
import { openDatabase } from '../db/connect';
import { migrate, MigrationError } from '../db/migrate';

const USAGE = `usage: benchsight <command>

  migrate            apply pending schema migrations (DATABASE_URL, or the embedded database)
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = configFromEnv();
  const db = await openDatabase({ ...config, notice: (l) => process.stderr.write(`${l}\n`) });
  try {
    if (command === 'migrate') {
      const r = await migrate(db, { log: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(
        r.applied.length ? `migrated to version ${r.version} (${r.applied.length} applied)\n` : `already at version ${r.version}; nothing to do\n`,
      );
      return 0;
    }
    process.stderr.write(`unknown command "${command}"\n${USAGE}`);
    return 2;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof MigrationError || err instanceof ConfigError;
    process.stderr.write(`benchsight: ${known ? (err as Error).message : String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
