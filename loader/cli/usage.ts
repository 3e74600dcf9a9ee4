/** The CLI's own commands and flags, printed after the command language's help (`benchsight help`). */
export const LOCAL_USAGE = `local commands:
  migrate                      apply pending schema migrations
  start                        run the whole product on this machine (npm start)
  generate --games N --out DIR [--seed S] [--first-game ID] [--dirty] [--workers W]
                               synthetic export files in the real format
  bot [--port P] [--from DIR]  the Slack bot's HTTP endpoint on 127.0.0.1
  slack "/benchsight <command>"  send a signed slash command to the local bot (npm start) and print the reply
  ingest <tracker.json>         stage a tracker export for its game (the ETL is queued when the game ended)
  drop <files...> [--batch NAME] [--op OPERATION] [--game ID] [--prefix P]
                               upload export files to the drop bucket (DROP_BUCKET; AWS_ENDPOINT_URL_S3 for a local S3)
  sql "<query>" [--json]       run SQL on the warehouse and print the rows; sql --url prints the
                               connection string (for psql "$(npx benchsight sql --url)")

flags for loads and deletes:
  --from <dir>        load the files <table>.csv of a local folder
  --json              print the result as JSON on stdout
  --yes               confirm a command that deletes rows (full-refresh, delete game, replace, merge: see above)
  --dry-run           show what would change, change nothing
  --add-columns       add columns the export has and the table lacks (typed from the values)
  --strict            fail on duplicate keys and broken relations instead of rejecting those rows
  --max-rejects N|N%  rejected rows a file may have before the load is PARTIAL (default 20%)

exit codes: 0 succeeded; 1 failed (nothing changed); 2 usage or refused; 3 PARTIAL (committed, but
rows were rejected past the allowance or with their parent rows, or the data-quality rules could
not run: the output says which); 130 cancelled with Ctrl-C (nothing changed).

DATABASE_URL picks the database; without it the embedded PostgreSQL in .benchsight/ is used
(the one \`npm start\` runs, or one started for the command). Ctrl-C during a load cancels
it: nothing changes and the history says "cancelled".
`;
