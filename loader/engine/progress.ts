/** Progress of a request, told to its caller's onProgress (a display never breaks a load). */
import type { LoadRequest, Progress } from './request';

export function report(req: LoadRequest, p: Progress): void {
  try {
    req.onProgress?.(p);
  } catch {
    /* a progress display never breaks a load */
  }
}
