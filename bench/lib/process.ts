/**
 * Measures one whole process from outside: wall time (spawn to exit, as a CI step sees it) and peak RSS (the
 * kernel's high-water mark for the process, via GNU time's %M, else by polling /proc/<pid>/status VmHWM).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ProcessSample {
  readonly wallMs: number;
  readonly peakRssMiB: number;
  /** User + system CPU time of the process (GNU time only): robust against other load on the machine, unlike wall. */
  readonly cpuMs?: number;
  readonly code: number | null;
  readonly stdout: string;
}

const GNU_TIME = '/usr/bin/time';

/** Peak RSS source used by `measure` (named in the benchmark's report). */
export const RSS_METHOD = existsSync(GNU_TIME) ? 'GNU time %M (getrusage ru_maxrss of the child)' : '/proc/<pid>/status VmHWM, polled every 5 ms';

export async function measure(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 600_000): Promise<ProcessSample> {
  const useTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), 'cra-bench-'));
  const out = join(dir, 'rss');
  try {
    const t0 = performance.now();
    const child = useTime ? spawn(GNU_TIME, ['-f', '%M %U %S', '-o', out, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'ignore'] }) : spawn(cmd, [...args], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d; // enough to check the verdict line
    });
    let hwmKiB = 0;
    let cpuMs: number | undefined;
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwmKiB = Math.max(hwmKiB, Number(m[1]));
          } catch {
            // exited between polls
          }
        }, 5);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c));
    });
    const wallMs = performance.now() - t0;
    clearTimeout(timer);
    if (poll) clearInterval(poll);
    if (useTime) {
      // GNU time writes "Command exited with non-zero status N" before the figure when the command fails.
      const [maxRss, user, sys] = (readFileSync(out, 'utf8').trim().split('\n').at(-1) ?? '').split(' ').map(Number);
      hwmKiB = maxRss ?? NaN;
      cpuMs = ((user ?? NaN) + (sys ?? NaN)) * 1000;
    }
    return { wallMs, peakRssMiB: hwmKiB / 1024, ...(cpuMs !== undefined ? { cpuMs } : {}), code, stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarise(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)! };
}
