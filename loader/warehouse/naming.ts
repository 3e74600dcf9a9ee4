/**
 * The one rule that turns an export header into a column name, used by the schema,
 * the loader and the schema-extension option alike:
 *
 *   1. lower-case it                      `Type` → `type`, `home_team_periodOT_goals` → `home_team_periodot_goals`
 *   2. every character outside a-z 0-9 _  becomes `_`   (`shot %` → `shot__`)
 *   3. a name that starts with a digit    gets a leading `_`   (`2on1_rushes` → `_2on1_rushes`)
 *
 * The result is a plain PostgreSQL identifier that needs no quoting in SQL or in
 * Supabase's REST API. Two headers of one file that map to the same name are an error.
 */
export function columnNameFor(header: string): string {
  const lowered = header
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  return /^[0-9]/.test(lowered) ? `_${lowered}` : lowered;
}

/** Identifiers we generate or accept are plain: they never need quoting. */
export const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function isPlainIdentifier(name: string): boolean {
  return PLAIN_IDENTIFIER.test(name);
}
