/** A stream that keeps what is written to it: the CLI's stdout or stderr, in-process. */
import { Writable } from 'node:stream';

export class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}
