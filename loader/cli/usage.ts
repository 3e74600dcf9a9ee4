/** What `benchsight help` says after the commands: the outcome classes, exit codes and where the database is. */
export const EPILOGUE = `outcomes and exit codes (loader/commands/outcome-class.ts):
  0    succeeded, or nothing to do (every row was already there)
  1    failed: nothing changed (bad input, a guard refused it: no row for the game, a replace
       that would remove more than half of a table — --allow-shrink —, an error)
  2    usage error, or refused before it ran (a destructive command without --yes)
  3    PARTIAL: committed, but rows were rejected past the allowance (--max-rejects, default
       20% of a file) or with their parent rows, or the data-quality rules found ERRORs or
       could not run: the output says which; \`benchsight rejects <history id>\` shows the rows
  130  cancelled with Ctrl-C: nothing changed, the history says "cancelled"

DATABASE_URL picks the database; without it the embedded PostgreSQL in .benchsight/ is used
(the one \`npm start\` runs, or one started for the command). Progress goes to stderr (a bar
on a terminal; lines, or JSON lines with --json, otherwise); results to stdout.
`;
