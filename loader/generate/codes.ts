/**
 * The ETL's dimension codes that the export writes next to each name (`Pass` →
 * `ET0009`), and the vocabulary of event details the simulation draws from. The codes
 * are the export's own, so generated rows join the same dimension tables.
 */

/** Name → code, as a Map: lookups by name are on the hot path of every row. */
function codes(table: Record<string, string>): ReadonlyMap<string, string> {
  return new Map(Object.entries(table));
}

export const EVENT_TYPE_ID = codes({
  Clockstop: 'ET0001',
  DeadIce: 'ET0002',
  Faceoff: 'ET0003',
  GameEnd: 'ET0004',
  GameStart: 'ET0005',
  Goal: 'ET0006',
  Intermission: 'ET0007',
  LoosePuck: 'ET0008',
  Pass: 'ET0009',
  Penalty: 'ET0010',
  Play: 'ET0012',
  Possession: 'ET0013',
  Rebound: 'ET0014',
  Save: 'ET0015',
  Shot: 'ET0016',
  Stoppage: 'ET0017',
  Turnover: 'ET0019',
  Zone_Entry_Exit: 'ET0020',
});

export const EVENT_DETAIL_ID = codes({
  Faceoff_AfterGoal: 'ED0003',
  Faceoff_AfterPenalty: 'ED0004',
  Faceoff_AfterStoppage: 'ED0005',
  Faceoff_GameStart: 'ED0006',
  Faceoff_PeriodStart: 'ED0007',
  Goal_Scored: 'ED0008',
  LoosePuck_Battle: 'ED0009',
  Pass_Completed: 'ED0010',
  Pass_Missed: 'ED0011',
  Pass_Deflected: 'ED0013',
  Pass_Intercepted: 'ED0014',
  Penalty_Minor: 'ED0016',
  Play_Defensive: 'ED0017',
  Play_Offensive: 'ED0018',
  PuckRecovery: 'ED0020',
  PuckRetrieval: 'ED0021',
  Rebound_OppTeamRecovered: 'ED0023',
  Rebound_TeamRecovered: 'ED0025',
  Regroup: 'ED0026',
  Save_Freeze: 'ED0027',
  Save_Rebound: 'ED0030',
  Shot_Blocked: 'ED0031',
  Shot_Goal: 'ED0037',
  Shot_Missed: 'ED0038',
  Shot_OnNetSaved: 'ED0040',
  Shot_TippedOnNetSaved: 'ED0042',
  Stoppage_Play: 'ED0044',
  Stoppage_GameEnd: 'ED0045',
  Stoppage_Period: 'ED0046',
  Turnover_Giveaway: 'ED0048',
  Turnover_Takeaway: 'ED0049',
  Zone_Entry: 'ED0052',
  Zone_Exit: 'ED0053',
  Zone_Entryfailed: 'ED0055',
  Zone_ExitFailed: 'ED0057',
  Zone_Keepin: 'ED0058',
});

export const EVENT_DETAIL_2_ID = codes({
  'Giveaway-AttemptedZoneClear/Dump': 'E20004',
  'Giveaway-Misplayed': 'E20007',
  'Giveaway-PassBlocked': 'E20009',
  'Giveaway-PassIntercepted': 'E20010',
  'Giveaway-PassMissed': 'E20011',
  'Giveaway-ZoneClear/Dump': 'E20014',
  'Goal-Backhand': 'E20016',
  'Goal-Snap': 'E20018',
  'Goal-Tip': 'E20019',
  'Goal-Wrist': 'E20020',
  'Pass-Backhand': 'E20021',
  'Pass-Bank': 'E20022',
  'Pass-Drop': 'E20024',
  'Pass-Forehand': 'E20026',
  'Pass-Rim/Wrap': 'E20031',
  'Pass-Stretch': 'E20032',
  'Penalty-Hooking': 'E20034',
  'Penalty-Roughing': 'E20035',
  'Penalty-Tripping': 'E20036',
  'Play-AttemptedClear': 'E20037',
  'Play-Deke': 'E20038',
  'Play-DumpChase': 'E20040',
  'Play-PokeCheck': 'E20041',
  'Play-SeperateFromPuck': 'E20042',
  'Save-Blocker': 'E20044',
  'Save-Butterfly': 'E20045',
  'Save-Chest': 'E20046',
  'Save-Glove': 'E20047',
  'Save-LeftPad': 'E20048',
  'Save-RightPad': 'E20050',
  'Shot-Backhand': 'E20054',
  'Shot-OneTime': 'E20056',
  'Shot-Slap': 'E20058',
  'Shot-Snap': 'E20059',
  'Shot-Tip': 'E20060',
  'Shot-Wrist': 'E20062',
  'Stoppage-Goal': 'E20064',
  'Stoppage-GoalieStoppage': 'E20065',
  'Stoppage-Icing': 'E20067',
  'Stoppage-Offsides': 'E20068',
  'Stoppage-Penalty': 'E20069',
  'Stoppage-PeriodEnd': 'E20070',
  'Stoppage-PuckOutofPlay': 'E20071',
  'Takeaway-BattleWon': 'E20072',
  'Takeaway-PassIntercepted': 'E20073',
  'Takeaway-PokeCheck': 'E20074',
  'Zone-KeepIn': 'E20075',
  'ZoneEntry-Chip': 'E20078',
  'ZoneEntry-DumpIn': 'E20079',
  'ZoneEntry-Pass': 'E20083',
  'ZoneEntry-Rush': 'E20086',
  'ZoneExit-Chip': 'E20089',
  'ZoneExit-Clear': 'E20090',
  'ZoneExit-Pass': 'E20094',
  'ZoneExit-Rush': 'E20097',
});

export const PLAY_DETAIL_ID = codes({
  AttemptedBreakOutClear: 'PD0003',
  AttemptedBreakOutPass: 'PD0004',
  Breakout: 'PD0018',
  Deke: 'PD0060',
  Delay: 'PD0061',
  DriveMiddle: 'PD0063',
  DriveWide: 'PD0065',
  PokeCheck: 'PD0127',
  SecondTouch: 'PD0148',
  SeperateFromPuck: 'PD0149',
  'Defensive_PlayPossession-PokeCheck': 'PD0035',
  'Defensive_Zone-AttemptedBreakOutClear': 'PD0055',
  'OffensivePlay_Pass-Reverse': 'PD0084',
  'OffensivePlay_Pass-SecondTouch': 'PD0085',
  'OffensivePlay_Possession-CrashNet': 'PD0087',
  'OffensivePlay_Possession-Deke': 'PD0089',
  'OffensivePlay_Possession-Delay': 'PD0090',
  'OffensivePlay_Possession-DriveMiddle': 'PD0092',
  'OffensivePlay_Possession-DriveWide': 'PD0095',
  'OffensivePlay_Zone-Breakout': 'PD0099',
  'OffensivePlay_Zone-DumpChase': 'PD0102',
  'OffensivePlay_Zone-PuckRetreivalTurnover': 'PD0116',
  PuckRecoveryRetreivalPass: 'PD0134',
  PuckRecoveryRetreivalShot: 'PD0136',
});

export const PLAY_DETAIL_2_ID = codes({
  CutBack: 'P20008',
  Deke: 'P20022',
  DumpChase: 'P20025',
  PassDeflected: 'P20051',
  PokeCheck: 'P20052',
  Regroup: 'P20054',
  ZoneEntryDenial: 'P20060',
});

/** play_detail1 values the tracker records with each event type. */
export const PLAY_DETAILS: Readonly<Record<string, readonly string[]>> = {
  Possession: [
    'OffensivePlay_Zone-PuckRetreivalTurnover',
    'PuckRecoveryRetreivalPass',
    'OffensivePlay_Possession-Deke',
    'OffensivePlay_Possession-Delay',
    'PuckRecoveryRetreivalShot',
    'Delay',
    'Deke',
  ],
  Pass: ['SecondTouch', 'OffensivePlay_Pass-SecondTouch', 'AttemptedBreakOutPass', 'Breakout', 'OffensivePlay_Pass-Reverse'],
  Zone_Entry_Exit: [
    'OffensivePlay_Zone-Breakout',
    'OffensivePlay_Possession-DriveMiddle',
    'OffensivePlay_Possession-DriveWide',
    'DriveWide',
    'DriveMiddle',
    'OffensivePlay_Zone-DumpChase',
  ],
  Turnover: ['Defensive_Zone-AttemptedBreakOutClear', 'Defensive_PlayPossession-PokeCheck', 'AttemptedBreakOutClear', 'PokeCheck', 'SeperateFromPuck'],
  Shot: ['SecondTouch', 'OffensivePlay_Possession-CrashNet'],
};

export const PLAY_DETAILS_2 = [...PLAY_DETAIL_2_ID.keys()];

export const DETAIL_2: Readonly<Record<string, readonly string[]>> = {
  Pass: ['Pass-Forehand', 'Pass-Forehand', 'Pass-Forehand', 'Pass-Forehand', 'Pass-Backhand', 'Pass-Rim/Wrap', 'Pass-Bank', 'Pass-Stretch', 'Pass-Drop'],
  Zone_Entry: ['ZoneEntry-Rush', 'ZoneEntry-Rush', 'ZoneEntry-Rush', 'ZoneEntry-DumpIn', 'ZoneEntry-Pass', 'ZoneEntry-Chip'],
  Zone_Exit: ['ZoneExit-Rush', 'ZoneExit-Rush', 'ZoneExit-Pass', 'ZoneExit-Clear', 'ZoneExit-Chip'],
  Giveaway: [
    'Giveaway-ZoneClear/Dump',
    'Giveaway-AttemptedZoneClear/Dump',
    'Giveaway-PassMissed',
    'Giveaway-Misplayed',
    'Giveaway-PassIntercepted',
    'Giveaway-PassBlocked',
  ],
  Takeaway: ['Takeaway-PokeCheck', 'Takeaway-BattleWon', 'Takeaway-PassIntercepted'],
  Shot: ['Shot-Wrist', 'Shot-Wrist', 'Shot-Wrist', 'Shot-Wrist', 'Shot-Snap', 'Shot-Backhand', 'Shot-Slap', 'Shot-Tip', 'Shot-OneTime'],
  Save: ['Save-RightPad', 'Save-LeftPad', 'Save-Butterfly', 'Save-Glove', 'Save-Blocker', 'Save-Chest'],
  Goal: ['Goal-Wrist', 'Goal-Wrist', 'Goal-Backhand', 'Goal-Tip', 'Goal-Snap'],
  Play_Defensive: ['Play-PokeCheck', 'Play-SeperateFromPuck', 'Play-AttemptedClear'],
  Play_Offensive: ['Play-Deke', 'Play-DumpChase'],
  Penalty: ['Penalty-Tripping', 'Penalty-Hooking', 'Penalty-Roughing'],
};

export const ZONE_ID = { o: 'ZN0001', d: 'ZN0002', n: 'ZN0003' } as const;
export const VENUE_ID = { Home: 'VN0001', Away: 'VN0002' } as const;
export const SUCCESS_ID = { s: 'SC0001', u: 'SC0002' } as const;

export function roleId(side: 'e' | 'o', n: number): string {
  return `RL${String((side === 'e' ? 0 : 7) + n).padStart(4, '0')}`;
}

export function periodId(period: number): string {
  return `P${String(period).padStart(4, '0')}`;
}

export const SLOT_ID = codes({
  defense_1: 'SL0001',
  defense_2: 'SL0002',
  forward_1: 'SL0003',
  forward_2: 'SL0004',
  forward_3: 'SL0005',
  goalie: 'SL0006',
});

export const SHIFT_START_TYPE_ID = codes({
  OtherFaceoff: 'SS0001',
  FaceoffAfterGoal: 'SS0003',
  FaceoffAfterPenalty: 'SS0004',
  PeriodStart: 'SS0005',
  GameStart: 'SS0008',
});

export const SHIFT_STOP_TYPE_ID = codes({
  'Home Goal': 'SE0003',
  'Away Goal': 'SE0004',
  'Home Penalty': 'SE0005',
  'Away Penalty': 'SE0006',
  'Period End': 'SE0007',
  GameEnd: 'SE0009',
  'Home Icing': 'SE0010',
  'Away Icing': 'SE0011',
  'Home Offside': 'SE0012',
  'Away Offside': 'SE0013',
  'Puck Out of Play': 'SE0014',
  'Home Goalie Stopped (after Away SOG)': 'SE0015',
  'Away Goalie Stopped (after Home SOG)': 'SE0016',
});

/** The only manpower situation the simulation plays (no penalties served, no empty nets). */
export const EVEN_STRENGTH = { strength: '5v5', strengthId: 'STR0001', situation: 'Full Strength', situationId: 'SIT0003' } as const;
