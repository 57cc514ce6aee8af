/** The CLI's view of the process: streams, environment, working directory. Tests pass their own. */

export interface CliStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: CliStream;
  stderr: CliStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Exit codes of `cra-gate evaluate` (documented in docs/cli.md). */
export const EXIT = {
  /** Every release Approved. */
  approved: 0,
  /** Some release Blocked by a failing check (and every verdict could be reached). */
  blocked: 1,
  /** Unusable input, bad usage, or a verdict that depends on evidence that could not be collected. */
  unusable: 2,
} as const;

/** Colour only when writing to a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(stream: CliStream, env: CliIO['env']): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export interface Palette {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function palette(colour: boolean): Palette {
  const wrap = (open: number, close: number) => (s: string) => (colour ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}
