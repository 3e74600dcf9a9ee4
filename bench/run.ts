/** `npm run bench <name> [options]`: runs bench/<name>.ts (load, bot-ack, s3, portal ...). */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const [name, ...rest] = process.argv.slice(2);
const names = readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'support.ts', 'scaled-export.ts'].includes(f))
  .map((f) => f.slice(0, -3));
if (!name || !existsSync(path.join(__dirname, `${name}.ts`)) || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench <${names.join('|')}> [options]\n`);
  process.exit(2);
}
execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, `${name}.ts`), ...rest], { stdio: 'inherit' });
