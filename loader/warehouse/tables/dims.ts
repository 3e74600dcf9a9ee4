// The dims tables: every column of the ETL export, in export order, with its SQL type.
// Headers map to column names by `columnNameFor` (see ../naming.ts).
import { columns, defineTable } from '../define';

export const dimPlayer = defineTable({
  name: 'dim_player',
  category: 'dims',
  key: ['player_id'],
  naturalKey: ['player_id'],
  gameColumn: null,
  defaultOperation: 'upsert',
  columns: columns`
    index                        integer
    player_first_name            text
    player_last_name             text
    player_full_name             text
    player_id                    text not null
    player_primary_position      text
    current_skill_rating         integer
    player_hand                  text
    birth_year                   integer
    player_gender                text
    highest_beer_league          text
    player_rating_ly             integer
    player_notes                 text
    player_leadership            text
    player_norad                 text
    player_csaha                 text
    player_norad_primary_number  text
    player_csah_primary_number   text
    player_norad_current_team    text
    player_csah_current_team     text
    player_norad_current_team_id text
    player_csah_current_team_id  text
    other_url                    text
    player_url                   text
    player_image                 text
    random_player_first_name     text
    random_player_last_name      text
    random_player_full_name      text
  `,
});

export const dimTeam = defineTable({
  name: 'dim_team',
  category: 'dims',
  key: ['team_id'],
  naturalKey: ['team_id'],
  gameColumn: null,
  defaultOperation: 'upsert',
  columns: columns`
    index          integer
    team_name      text
    team_id        text not null
    norad_team     text
    csah_team      text
    league_id      text
    league         text
    long_team_name text
    team_cd        text
    team_color1    text
    team_color2    text
    team_color3    text
    team_color4    text
    team_logo      text
    team_url       text
  `,
});

export const dimSchedule = defineTable({
  name: 'dim_schedule',
  category: 'dims',
  key: ['game_id'],
  naturalKey: ['game_id'],
  aliases: { game_date_str: 'date' },
  gameColumn: 'game_id',
  defaultOperation: 'upsert',
  columns: columns`
    game_id                  integer not null
    season                   integer
    season_id                text
    game_url                 text
    home_team_game_id        text
    away_team_game_id        text
    date                     timestamp
    game_time                time
    home_team_name           text
    away_team_name           text
    home_team_id             text
    away_team_id             text
    head_to_head_id          text
    game_type                text
    playoff_round            text
    last_period_type         text
    period_length            text
    ot_period_length         text
    shootout_rounds          integer
    home_total_goals         integer
    away_total_goals         integer
    home_team_period1_goals  integer
    home_team_period2_goals  integer
    home_team_period3_goals  integer
    home_team_periodOT_goals integer
    away_team_period1_goals  integer
    away_team_period2_goals  integer
    away_team_period3_goals  integer
    away_team_periodOT_goals integer
    home_team_seeding        integer
    away_team_seeding        integer
    home_team_w              integer
    home_team_l              integer
    home_team_t              integer
    home_team_pts            integer
    away_team_w              integer
    away_team_l              integer
    away_team_t              integer
    away_team_pts            integer
    video_id                 text
    video_start_time         text
    video_end_time           text
    video_title              text
    video_url                text
  `,
});
