import { describe, expect, it } from 'vitest';
import { derivePassword, parsePostgresUrl, providerSslmode, roleNames, roleUrl } from '../../infra/connection';

describe('connections', () => {
  it('reads an admin connection string, defaulting the port and sslmode', () => {
    expect(parsePostgresUrl('postgresql://postgres.ref:p%40ss@aws-0-eu-west-1.pooler.supabase.com/postgres')).toEqual({
      host: 'aws-0-eu-west-1.pooler.supabase.com',
      port: 5432,
      database: 'postgres',
      username: 'postgres.ref',
      password: 'p@ss',
      sslmode: 'require',
      search: '',
    });
    expect(() => parsePostgresUrl('postgres://u@h/db')).toThrow('has no password');
    expect(() => parsePostgresUrl('mysql://u:p@h/db')).toThrow('must start with postgres://');
  });

  it("builds a role's connection string on the admin's server, with Supabase's pooler user suffix", () => {
    const pooler = parsePostgresUrl('postgresql://postgres.abcdefghij:secret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres');
    const url = new URL(roleUrl(pooler, 'dev_loader', 'pw'));
    expect(url.username).toBe('dev_loader.abcdefghij');
    expect(url.password).toBe('pw');
    expect(url.host).toBe('aws-0-eu-west-1.pooler.supabase.com:6543');
    expect(url.pathname).toBe('/postgres');
    // libpq's require (encrypted) unless the admin's string says otherwise.
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(url.searchParams.get('uselibpqcompat')).toBe('true');

    const plain = parsePostgresUrl('postgres://admin:secret@db.internal:5433/warehouse?sslmode=verify-full');
    const u2 = new URL(roleUrl(plain, 'dev_reader', 'pw'));
    expect(u2.username).toBe('dev_reader');
    expect(u2.search).toBe('?sslmode=verify-full');
  });

  it('derives stable, distinct passwords from the seed', () => {
    const a = derivePassword('seed-one', 'dev_loader');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(derivePassword('seed-one', 'dev_loader')).toBe(a);
    expect(derivePassword('seed-one', 'dev_reader')).not.toBe(a);
    expect(derivePassword('seed-two', 'dev_loader')).not.toBe(a);
  });

  it('names the roles from the prefix, as plain identifiers', () => {
    expect(roleNames('benchsight-dev')).toEqual({
      migrator: 'benchsight_dev_migrator',
      loader: 'benchsight_dev_loader',
      reader: 'benchsight_dev_reader',
      service: 'benchsight_service',
      tracker: 'tracker',
    });
  });

  it("maps node-postgres's sslmode to the provider's", () => {
    expect(providerSslmode('no-verify')).toBe('require');
    expect(providerSslmode('verify-full')).toBe('verify-full');
    expect(providerSslmode('disable')).toBe('disable');
  });
});
