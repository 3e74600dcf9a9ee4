/**
 * Invented people, teams and leagues. Nothing here comes from the real export; the
 * lists only reproduce its kinds of text: non-ASCII letters and typographic
 * apostrophes, free text with commas and quotes, URLs with query strings.
 */

export const SITE = 'https://www.benchsight.example';
export const IMAGE_CDN = 'https://img.benchsight.example';

export const FIRST_NAMES = [
  'Adam', 'Alex', 'Andrew', 'Ben', 'Brian', 'Caleb', 'Chris', 'Cody', 'Dan', 'Dave', 'Derek', 'Drew', 'Eli',
  'Eric', 'Evan', 'Frank', 'Gabe', 'Greg', 'Hank', 'Ian', 'Jack', 'Jake', 'James', 'Jeff', 'Joel', 'John',
  'Jon', 'José', 'Josh', 'Kyle', 'Liam', 'Luke', 'Marc', 'Mark', 'Matt', 'Mike', 'Nate', 'Nick', 'Noah',
  'Owen', 'Paul', 'Pete', 'Ray', 'Rick', 'Rob', 'Ryan', 'Sam', 'Scott', 'Sean', 'Steve', 'Tim', 'Tom',
  'Tony', 'Tyler', 'Vic', 'Will', 'Zach', 'Łukasz', 'Søren', 'Renée', 'Zoë', 'Anna', 'Beth', 'Carla',
  'Dana', 'Erin', 'Jess', 'Kate', 'Lena', 'Maya', 'Nora', 'Tess',
] as const;

export const LAST_NAMES = [
  'Abbott', 'Baker', 'Barnes', 'Bishop', 'Boyd', 'Brooks', 'Carver', 'Chase', 'Cole', 'Dalton', 'Dixon',
  'Doyle', 'Ellis', 'Fields', 'Fisher', 'Fleming', 'Foster', 'Garner', 'Graves', 'Hale', 'Hardy', 'Hayes',
  'Hobbs', 'Holt', 'Hughes', 'Irwin', 'Jensen', 'Keller', 'Kerr', 'Lane', 'Larsen', 'Lowe', 'Lynch',
  'Mack', 'Malone', 'Marsh', 'Meyer', 'Moss', 'Nash', 'Noble', 'Oakes', 'O’Brien', 'O’Neill', 'D’Amico',
  'Page', 'Parks', 'Pruitt', 'Quinn', 'Reyes', 'Riggs', 'Rowe', 'Sharp', 'Shaw', 'Stone', 'Tate', 'Thorne',
  'Tucker', 'Vance', 'Wade', 'Walsh', 'Webb', 'West', 'Wolfe', 'Yates', 'Young', 'Muñoz', 'Dvořák',
  'Ødegaard', 'Lindqvist', 'Côté', 'Gagné', 'Nowak', 'Kowalski', 'Schäfer',
] as const;

/** Team short name, long name (some need CSV quoting), three-letter code. */
export const TEAM_NAMES: readonly (readonly [string, string, string])[] = [
  ['Ironworks', 'Ironworks Hockey Club', 'IRN'],
  ['Copper Kings', 'Copper Kings, LLC', 'CPK'],
  ['Blizzard', 'Blizzard', 'BLZ'],
  ['Riverside', 'Riverside Dental & Ortho', 'RVS'],
  ['Night Owls', 'Night Owls', 'NOW'],
  ['Granite', 'Granite Builders, Inc.', 'GRN'],
  ['Foxes', 'The "Foxes"', 'FOX'],
  ['Harbor', 'Harbor & Sons', 'HBR'],
  ['Summit', 'Summit Outfitters', 'SUM'],
  ['Lumberjacks', 'Lumberjacks', 'LUM'],
  ['Mavericks', 'Mavericks Brewing, Co.', 'MAV'],
  ['Polar Bears', 'Polar Bears', 'PLB'],
  ['Redtails', 'Redtails', 'RDT'],
  ['Glaciers', 'Glaciers', 'GLA'],
  ['Thunder', 'Thunder Roofing', 'THU'],
  ['Pioneers', 'Pioneers', 'PIO'],
  ['Zamboni Bros', 'Zamboni Bros.', 'ZAM'],
  ['Outcasts', 'Outcasts', 'OUT'],
  ['Stallions', 'Stallions', 'STA'],
  ['Québec Nord', 'Québec Nord', 'QCN'],
  ['Wolverines', 'Wolverines', 'WOL'],
  ['Hammerheads', 'Hammerheads', 'HAM'],
  ['Cobalt', 'Cobalt Labs', 'COB'],
  ['Sentinels', 'Sentinels', 'SEN'],
];

export const FREE_AGENT_TEAM = 'Free Agent';

/** Free text of dim_player.highest_beer_league: commas, quotes, non-ASCII. */
export const PLAYING_HISTORY = [
  'C', 'B - Gold Group', 'D League', 'Campus Rec', 'Adult Learn to Play',
  'B League, Riverside Rink', 'Over 40 league, North Arena, 3 years', 'Roller Hockey: Premier, Sunday Skaters',
  'Men’s C division', 'Women’s A division', 'Club "A" Division', 'High school varsity, then "beer league"',
  'A/B1 Mountain League, played for 4 teams since 2019', 'Learn-to-play, then D2 intermediate',
] as const;

export const TEAM_COLORS = [
  '#641C28', '#CA0527', '#4D2640', '#F3C323', '#458BC5', '#000000', '#016359', '#EEB70E',
  '#FFFFFF', '#F4E8CC', '#BCC1C3', '#C5E002', '#030629', '#CD1F38', '#2E6B3A', '#7A4E9C',
] as const;

/** `Sam O’Brien` → `sam-obrien`, for URLs. */
export function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f’']/g, '')
    .replace(/ø/gi, 'o')
    .replace(/ł/gi, 'l')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
