// The analytics_facts tables: every column of the ETL export, in export order, with its SQL type.
// Headers map to column names by `columnNameFor` (see ../naming.ts).
import { columns, defineTable } from '../define';

export const factH2h = defineTable({
  name: 'fact_h2h',
  category: 'analytics_facts',
  key: ['h2h_key'],
  naturalKey: ['game_id', 'player_1_id', 'player_2_id'],
  keyRule: 'HH{game_id}_{player_1_id}_{player_2_id}',
  gameColumn: 'game_id',
  defaultOperation: 'replace',
  columns: columns`
    game_id         integer not null
    player_1_id     text
    player_2_id     text
    shifts_together integer
    home_team_id    text
    away_team_id    text
    toi_together    numeric
    goals_for       numeric
    goals_against   numeric
    plus_minus      numeric
    corsi_for       numeric
    corsi_against   numeric
    cf_pct          numeric
    fenwick_for     numeric
    fenwick_against numeric
    ff_pct          numeric
    xgf             numeric
    xga             numeric
    xg_diff         numeric
    shots_for       numeric
    shots_against   numeric
    h2h_key         text not null
    player_1_name   text
    player_2_name   text
  `,
});

export const factWowy = defineTable({
  name: 'fact_wowy',
  category: 'analytics_facts',
  key: ['wowy_key'],
  naturalKey: ['game_id', 'player_1_id', 'player_2_id'],
  keyRule: 'WY{game_id}_{player_1_id}_{player_2_id}',
  aliases: { total_p1_shifts: 'p1_logical_shifts', total_p2_shifts: 'p2_logical_shifts' },
  gameColumn: 'game_id',
  defaultOperation: 'replace',
  columns: columns`
    game_id              integer not null
    player_1_id          text
    player_2_id          text
    venue                text
    shifts_together      integer
    p1_shifts_without_p2 integer
    p2_shifts_without_p1 integer
    p1_logical_shifts    integer
    p2_logical_shifts    integer
    venue_id             text
    home_team_id         text
    away_team_id         text
    toi_together         numeric
    toi_apart            numeric
    gf_pct_together      numeric
    gf_pct_apart         numeric
    gf_pct_delta         numeric
    cf_pct_together      numeric
    cf_pct_apart         numeric
    cf_pct_delta         numeric
    xgf_pct_together     numeric
    xgf_pct_apart        numeric
    xgf_pct_delta        numeric
    relative_corsi       numeric
    relative_fenwick     numeric
    wowy_key             text not null
    player_1_name        text
    player_2_name        text
  `,
});
