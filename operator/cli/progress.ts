/**
 * A progress line on stderr while evidence is fetched, only when stderr is a terminal (never in CI logs or
 * when piped). It appears after a short delay, so fast evaluations print nothing, and is erased when done.
 */
import type { CliStream } from './io.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  start(label: string): void;
  stop(): void;
}

export function progress(stream: CliStream, opts: { delayMs?: number; intervalMs?: number } = {}): Progress {
  if (stream.isTTY !== true) return { start() {}, stop() {} };
  const delay = opts.delayMs ?? 300;
  const interval = opts.intervalMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let shown = false;
  let started = 0;
  let frame = 0;
  let label = '';
  const draw = (): void => {
    shown = true;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length]} ${label} (${secs}s)`);
  };
  return {
    start(l) {
      this.stop();
      label = l;
      started = Date.now();
      frame = 0;
      timer = setTimeout(() => {
        draw();
        timer = setInterval(draw, interval);
        timer.unref();
      }, delay);
      timer.unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (shown) stream.write('\r\u001b[2K');
      shown = false;
    },
  };
}
