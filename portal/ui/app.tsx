/**
 * The Admin Portal page: sign-in (a one-time link locally; Supabase Auth deployed), then
 * the sections of the design notes — status, quick actions, load by scope, upload, recent
 * operations — and the jobs started here. Everything refreshes when the warehouse's
 * activity changes: server-sent events locally, polling /api/changes deployed.
 */
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { QuickActions, LoadByScope } from './actions';
import { api, setAuth } from './api';
import { ConfirmDialog, type Ask, type Confirmer } from './confirm';
import { Jobs, type Tracked } from './jobs';
import { RecentOperations, StatusBoard } from './status';
import { Upload } from './upload';

interface Config {
  auth: 'local' | 'supabase';
  supabase?: { url: string; anonKey?: string };
  uploads: 'stream' | 'presigned';
  liveEvents: boolean;
  tables: string[];
  operations: string[];
}
interface Session {
  signedIn: boolean;
  user?: { id: string; email?: string; role: string | null; name: string };
  csrf?: string;
  /** The activity's version when the session was read (GET /api/changes gives the same). */
  version?: string;
}

const TOKEN_KEY = 'benchsight.portal.token';

/** Deployed: a Supabase access token from the sign-in link's redirect (#access_token=…), kept for this tab. */
function supabaseToken(): string {
  const hash = new URLSearchParams(location.hash.slice(1));
  const t = hash.get('access_token');
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function SignIn({ config }: { config: Config }) {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  if (config.auth === 'local') {
    return (
      <main class="signin card">
        <h1>BenchSight Ops — Admin Portal</h1>
        <p>
          Open the one-time sign-in link that <code>npm start</code> printed in its terminal. A link works once; start the stack again for a new one.
        </p>
      </main>
    );
  }
  const send = async (e: Event) => {
    e.preventDefault();
    const s = config.supabase!;
    const r = await fetch(`${s.url}/auth/v1/otp?redirect_to=${encodeURIComponent(location.origin)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: s.anonKey ?? '' },
      body: JSON.stringify({ email, create_user: false }),
    });
    setSent(r.ok ? `A sign-in link was sent to ${email}.` : `Supabase refused: ${r.status}`);
  };
  return (
    <main class="signin card">
      <h1>BenchSight Ops — Admin Portal</h1>
      <form onSubmit={(e) => void send(e)}>
        <label>
          E-mail
          <input type="email" required value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} autocomplete="email" />
        </label>
        <button type="submit" class="primary">
          Send me a sign-in link
        </button>
      </form>
      {sent && <p role="status">{sent}</p>}
    </main>
  );
}

export function App() {
  const [config, setConfig] = useState<Config | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [jobs, setJobs] = useState<Tracked[]>([]);
  const [ask, setAsk] = useState<Ask | null>(null);
  const [note, setNote] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
  const refresh = () => setRefreshKey((k) => k + 1);

  // Layout effects start the page's first requests at once: a plain effect waits for the next frame.
  useLayoutEffect(() => {
    void (async () => {
      // Both at once (the first render waits for them). A Supabase access token exists only
      // deployed (in this tab, or in the sign-in link's #access_token); locally there is none.
      const token = supabaseToken();
      if (token) setAuth({ bearer: token });
      const [c, s] = await Promise.all([api<Config>('/api/config'), api<Session>('/api/session')]);
      if (s.body.csrf) setAuth({ csrf: s.body.csrf });
      setConfig(c.body);
      setSession(s.body);
    })();
  }, []);

  // Live: one event stream locally; deployed, a cheap poll of the activity's version. The
  // board was loaded after the session's version was read: only another version is news.
  useEffect(() => {
    if (!session?.signedIn || !config) return;
    let last = session.version ?? '';
    const seen = (version: string) => {
      if (version === last) return;
      last = version;
      refresh();
    };
    if (config.liveEvents) {
      const es = new EventSource('/api/events');
      es.addEventListener('change', (e) => seen((e as MessageEvent<string>).data));
      return () => es.close();
    }
    const t = setInterval(() => {
      void api('/api/changes').then((r) => r.ok && seen(r.body.version));
    }, 5000);
    return () => clearInterval(t);
  }, [session?.signedIn, config]);

  const confirm: Confirmer = (p) =>
    new Promise((resolve) =>
      setAsk({
        description: p.confirmation?.description ?? 'this request',
        resolve: (yes) => {
          setAsk(null);
          resolve(yes);
        },
      }),
    );

  if (!config || !session) return <p class="boot">Loading the Admin Portal…</p>;
  if (!session.signedIn) return <SignIn config={config} />;
  const user = session.user!;
  const signOut = async () => {
    await api('/api/session', { method: 'DELETE' });
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  };
  const props = {
    confirm,
    refreshKey,
    tables: config.tables,
    track: (t: Tracked) => setJobs((all) => [t, ...all.filter((x) => x.id !== t.id)].slice(0, 8)),
    note: (text: string, kind: 'ok' | 'error' = 'ok') => setNote({ text, kind }),
  };
  return (
    <>
      <header class="top">
        <h1>BenchSight Ops · Admin Portal</h1>
        <div class="who">
          <span>
            {user.email ?? user.id} · <strong>{user.role ?? 'no role'}</strong>
          </span>
          <button type="button" class="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main class="grid">
        <div class="col">
          <StatusBoard refreshKey={refreshKey} />
          <QuickActions {...props} />
          {note && (
            <div class={`note ${note.kind}`} role="status">
              <pre>{note.text}</pre>
              <button type="button" class="link" onClick={() => setNote(null)}>
                Dismiss
              </button>
            </div>
          )}
          <Jobs jobs={jobs} live={config.liveEvents} onChange={refresh} />
          <LoadByScope {...props} />
        </div>
        <div class="col">
          <Upload confirm={confirm} uploads={config.uploads} tables={config.tables} operations={config.operations} onChange={refresh} />
        </div>
        <div class="wide">
          <RecentOperations refreshKey={refreshKey} />
        </div>
      </main>
      <ConfirmDialog ask={ask} />
    </>
  );
}
