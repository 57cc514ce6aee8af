// Bounded polling for tests: waits until `fn` yields a value, or fails with a message naming what was awaited
// and the last value or error seen. A slow `fn` cannot stretch the bound: each attempt races the deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitOptions {
  /** Overall bound; default 30 s. */
  timeoutMs?: number;
  /** Pause between attempts; default 100 ms. */
  intervalMs?: number;
}

const NOT_YET = Symbol('not-yet');

/** Throw this from a waitFor callback to give up at once (e.g. the awaited process exited). */
export class StopWaiting extends Error {}

function describe(v: unknown): string {
  if (v instanceof Error) return v.message;
  return inspect(v, { depth: 3, breakLength: Infinity, maxStringLength: 500 });
}

/**
 * Polls `fn` until it resolves to something other than `undefined` or `false`, and returns that value.
 * A thrown error counts as "not yet" (and is reported if the wait times out), except StopWaiting, which
 * ends the wait at once with a message naming `what`.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let attempts = 0;
  let last: { kind: 'value' | 'error'; v: unknown } | undefined;
  for (;;) {
    attempts++;
    const remaining = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof NOT_YET>((resolve) => {
      timer = setTimeout(() => resolve(NOT_YET), Math.max(remaining, 0));
    });
    try {
      const v = await Promise.race([fn(), expired]);
      if (v === NOT_YET) {
        last ??= { kind: 'error', v: new Error('the last attempt was still running at the deadline') };
      } else if (v !== undefined && v !== false) {
        return v;
      } else {
        last = { kind: 'value', v };
      }
    } catch (err) {
      if (err instanceof StopWaiting) {
        throw new StopWaiting(`gave up waiting for ${what}: ${err.message}`, { cause: err });
      }
      last = { kind: 'error', v: err };
    } finally {
      clearTimeout(timer);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const detail = last === undefined ? 'no attempt completed' : `last ${last.kind}: ${describe(last.v)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${attempts} attempts; ${detail})`);
    }
    await sleep(Math.min(intervalMs, left));
  }
}
