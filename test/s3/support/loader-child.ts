/**
 * A loader Lambda in a process of its own: runs the loader's handler (loader/entry/loader-lambda.ts,
 * dependencies from the environment, as on Lambda) once for the S3 event given as JSON in
 * argv[2], prints its answer and exits 0, or exits 1 when it throws (Lambda would retry).
 * The crash test kills it in the middle of a load.
 */
import { handler } from '../../../loader/entry/loader-lambda';

handler(JSON.parse(process.argv[2] ?? '{}')).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
