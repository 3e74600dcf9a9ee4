/**
 * What tells the status board to refresh: a version of the warehouse's activity (the
 * newest history row and how many are running, the newest drop the loader saw, the
 * queue). One cheap query, whoever asks: GET /api/changes (the deployed page polls it)
 * and, locally, one poll a second shared by every open page, pushed as server-sent
 * events. A file another process drops into the bucket shows up within a second.
 */
import { EventEmitter } from 'node:events';
import type { Queryable } from '../../loader/db/database';

export async function activityVersion(db: Queryable): Promise<string> {
  const r = await db.query<{ v: string }>(
    `SELECT concat_ws(':',
       (SELECT coalesce(max(id), 0) FROM load_history),
       (SELECT count(*) FROM load_history WHERE status = 'started'),
       (SELECT coalesce(max(id), 0) FROM s3_objects),
       (SELECT count(*) FROM s3_objects WHERE status = 'loading'),
       (SELECT count(*) FROM etl_queue WHERE status IN ('pending', 'running'))) AS v`,
  );
  return r.rows[0]!.v;
}

/** Polls activityVersion while someone listens; tells them when it changes. */
export function changeFeed(db: Queryable, everyMs = 1000, log: (line: string) => void = () => undefined) {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let timer: NodeJS.Timeout | undefined;
  let version = '';
  const tick = async () => {
    try {
      const v = await activityVersion(db);
      if (v !== version) {
        version = v;
        events.emit('change', v);
      }
    } catch (err) {
      log(`portal: the change feed could not read the database: ${(err as Error).message}`);
    }
    if (events.listenerCount('change')) timer = setTimeout(() => void tick(), everyMs);
    else timer = undefined;
  };
  return {
    subscribe(listener: (version: string) => void): () => void {
      events.on('change', listener);
      if (version) listener(version);
      if (!timer) timer = setTimeout(() => void tick(), 0);
      return () => events.off('change', listener);
    },
    /** Look now (a job of this process ended). */
    poke() {
      if (timer) {
        clearTimeout(timer);
        timer = setTimeout(() => void tick(), 0);
      }
    },
    stop() {
      if (timer) clearTimeout(timer);
      events.removeAllListeners();
    },
  };
}
