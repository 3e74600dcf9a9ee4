// The core_facts tables: every column of the ETL export, in export order, with its SQL type.
// Headers map to column names by `columnNameFor` (see ../naming.ts).
import { columns, defineTable } from '../define';

export const factShifts = defineTable({
  name: 'fact_shifts',
  category: 'core_facts',
  key: ['shift_key'],
  naturalKey: ['game_id', 'shift_index'],
  keyRule: 'SH{game_id}{shift_index:05}',
  gameColumn: 'game_id',
  defaultOperation: 'upsert',
  columns: columns`
    shift_key                          text not null
    game_id                            integer not null
    shift_index                        integer
    Period                             integer
    shift_start_min                    integer
    shift_start_sec                    numeric
    shift_end_min                      integer
    shift_end_sec                      numeric
    shift_start_type                   text
    shift_stop_type                    text
    home_forward_1                     integer
    home_forward_2                     integer
    home_forward_3                     integer
    home_defense_1                     integer
    home_defense_2                     integer
    home_xtra                          numeric
    home_goalie                        integer
    away_forward_1                     integer
    away_forward_2                     integer
    away_forward_3                     integer
    away_defense_1                     integer
    away_defense_2                     integer
    away_xtra                          integer
    away_goalie                        integer
    stoppage_time                      integer
    home_ozone_start                   integer
    home_ozone_end                     integer
    home_dzone_start                   integer
    home_dzone_end                     integer
    home_nzone_start                   integer
    home_nzone_end                     integer
    home_team                          text
    away_team                          text
    shift_start_total_seconds          numeric
    shift_end_total_seconds            numeric
    shift_duration                     integer
    home_team_strength                 integer
    away_team_strength                 integer
    home_team_en                       integer
    away_team_en                       integer
    home_team_pk                       integer
    home_team_pp                       integer
    away_team_pp                       integer
    away_team_pk                       integer
    situation                          text
    strength                           text
    home_goals                         integer
    away_goals                         integer
    home_team_plus                     integer
    home_team_minus                    integer
    away_team_plus                     integer
    away_team_minus                    integer
    period_start_total_running_seconds integer
    running_video_time                 integer
    shift_start_running_time           integer
    shift_end_running_time             integer
    strength_id                        text
    situation_id                       text
    shift_start_type_id                text
    shift_stop_type_id                 text
    home_team_id                       text
    away_team_id                       text
    period_id                          text
  `,
});

export const factEvents = defineTable({
  name: 'fact_events',
  category: 'core_facts',
  key: ['event_key'],
  naturalKey: ['game_id', 'event_index'],
  keyRule: 'EV{game_id}{event_index:05}',
  gameColumn: 'game_id',
  defaultOperation: 'upsert',
  columns: columns`
    event_key                          text not null
    game_id                            integer not null
    period                             integer
    event_index                        integer
    linked_event_index                 integer
    sequence_index                     integer
    play_index                         integer
    event_type                         text
    tracking_event_index               integer
    event_start_min                    integer
    event_start_sec                    integer
    event_end_min                      integer
    event_end_sec                      integer
    role_abrev                         text
    event_team_zone                    text
    home_team_zone                     text
    away_team_zone                     text
    team_venue                         text
    team_venue_abv                     text
    side_of_puck                       text
    play_detail1                       text
    play_detail_2                      text
    play_detail_successful             text
    pressured_pressurer                integer
    zone_change_index                  integer
    home_team                          text
    away_team                          text
    Type                               text
    event_detail                       text
    event_detail_2                     text
    event_successful                   text
    shift_index                        integer
    duration                           integer
    time_start_total_seconds           integer
    time_end_total_seconds             integer
    running_intermission_duration      integer
    period_start_total_running_seconds integer
    running_video_time                 integer
    event_running_start                integer
    event_running_end                  integer
    period_id                          text
    venue_id                           text
    event_type_id                      text
    event_detail_id                    text
    event_detail_2_id                  text
    success_id                         text
    play_detail_success_id             text
    zone_id                            text
    play_detail_id                     text
    play_detail_2_id                   text
    home_team_id                       text
    away_team_id                       text
    shift_key                          text
    empty_net_goal                     integer
  `,
});

export const factEventsPlayer = defineTable({
  name: 'fact_events_player',
  category: 'core_facts',
  key: ['event_player_key'],
  naturalKey: ['game_id', 'event_index', 'player_role?'],
  keyRule: 'EP{game_id}_{event_index}_{player_role}',
  gameColumn: 'game_id',
  defaultOperation: 'upsert',
  columns: columns`
    event_player_key                   text not null
    event_key                          text
    game_id                            integer not null
    player_id                          text
    event_index                        integer
    player_role                        text
    role_number                        integer
    period                             integer
    event_type                         text
    player_game_number                 integer
    linked_event_index                 integer
    tracking_event_index               integer
    event_start_min                    integer
    event_start_sec                    integer
    event_end_min                      integer
    event_end_sec                      integer
    role_abrev                         text
    event_team_zone                    text
    home_team_zone                     text
    away_team_zone                     text
    team_venue                         text
    team_venue_abv                     text
    side_of_puck                       text
    sequence_index                     integer
    play_index                         integer
    play_detail1                       text
    play_detail_2                      text
    play_detail_successful             text
    pressured_pressurer                integer
    zone_change_index                  integer
    home_team                          text
    away_team                          text
    Type                               text
    event_detail                       text
    event_detail_2                     text
    event_successful                   text
    shift_index                        integer
    duration                           integer
    time_start_total_seconds           integer
    time_end_total_seconds             integer
    running_intermission_duration      integer
    period_start_total_running_seconds integer
    running_video_time                 integer
    event_running_start                integer
    event_running_end                  integer
    player_team                        text
    player_name                        text
    play_detail                        text
    period_id                          text
    venue_id                           text
    event_type_id                      text
    event_detail_id                    text
    event_detail_2_id                  text
    success_id                         text
    play_detail_success_id             text
    zone_id                            text
    play_detail_id                     text
    play_detail_2_id                   text
    role_id                            text
    home_team_id                       text
    away_team_id                       text
    player_team_id                     text
    shift_key                          text
  `,
});

export const factShiftsPlayer = defineTable({
  name: 'fact_shifts_player',
  category: 'core_facts',
  key: ['shift_player_key'],
  naturalKey: ['game_id', 'shift_index', 'venue', 'slot'],
  keyRule: 'SP{game_id}_{shift_index}_{venue}_{slot}',
  gameColumn: 'game_id',
  defaultOperation: 'upsert',
  columns: columns`
    shift_player_key          text not null
    shift_key                 text
    game_id                   integer not null
    shift_index               integer
    player_number             integer
    venue                     text
    slot                      text
    period                    integer
    shift_duration            integer
    situation                 text
    strength                  text
    stoppage_time             integer
    pm_plus_ev                integer
    pm_minus_ev               integer
    goal_for                  integer
    goal_against              integer
    team_en                   integer
    opp_en                    integer
    team_pp                   integer
    team_pk                   integer
    player_id                 text
    player_name               text
    logical_shift_number      integer
    shift_segment             integer
    cumulative_shift_duration integer
    running_toi               integer
    playing_duration          integer
    running_playing_toi       integer
    period_id                 text
    venue_id                  text
    strength_id               text
    situation_id              text
    slot_id                   text
    team_id                   text
    team_name                 text
  `,
});
