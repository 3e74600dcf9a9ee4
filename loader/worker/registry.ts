/**
 * The handlers the deployed worker (handler.ts) runs. process_game is the ETL; the engine's
 * load and delete_game join here through loadJobHandler / deleteGameJobHandler.
 */
import type { Handlers } from '../queue/job';
import { processGameHandler } from './handlers';

export function defaultHandlers(): Handlers {
  return {
    process_game: processGameHandler,
  };
}
