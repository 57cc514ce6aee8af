/**
 * Logging: pino JSON lines on stdout, level from `LOG_LEVEL` (default `info`), base fields
 * `{ name: 'cra-gate' }`, secrets redacted, one child logger per reconcile.
 */
import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Valid pino levels, for validating `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The censor written in place of redacted values. */
export const REDACTED = '[REDACTED]';

/**
 * Paths redacted from every log line (pino `redact` syntax; `*` matches one level). Covers credentials in
 * any object logged one or two levels deep, HTTP authorization headers and the payload of Secrets.
 */
export const REDACT_PATHS: readonly string[] = [
  'password', '*.password', '*.*.password',
  'token', '*.token', '*.*.token',
  'bearerToken', '*.bearerToken',
  'authorization', '*.authorization', '*.*.authorization',
  'headers.authorization', 'headers.Authorization', '*.headers.authorization', '*.headers.Authorization',
  'headers.cookie', '*.headers.cookie', 'headers["proxy-authorization"]', '*.headers["proxy-authorization"]',
  'privateKey', '*.privateKey', '*.*.privateKey',
  'clientKey', '*.clientKey', 'keyData', '*.keyData',
  'secret.data', 'secret.stringData', '*.secret.data', '*.secret.stringData',
];

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Level; defaults to `LOG_LEVEL` from the environment, else `info`. Invalid values fall back to `info`. */
  level?: string;
  /** Logger name (base field `name`); default `cra-gate`. */
  name?: string;
  /** Extra base fields (e.g. `{ pod }`). */
  base?: Record<string, unknown>;
  /** Where to write; default stdout (fd 1). Tests pass a stream. */
  destination?: DestinationStream;
  /** Environment to read `LOG_LEVEL` from (the composition root passes `process.env`; default: none). */
  env?: NodeJS.ProcessEnv;
}

/** Resolves a level string, falling back to `info` for empty or unknown values. */
export function resolveLevel(level: string | undefined): string {
  const l = (level ?? '').trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(l) ? l : 'info';
}

/**
 * Replaces `data`/`stringData`/`binaryData` of anything that looks like a Kubernetes Secret (`kind: Secret`)
 * found up to four levels deep in a log object. Returns a shallow-copied object; never mutates the input.
 */
export function redactSecretObjects(obj: Record<string, unknown>): Record<string, unknown> {
  const scrub = (v: unknown, depth: number): unknown => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Error) return v;
    const o = v as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    if (o.kind === 'Secret') {
      out = { ...o };
      for (const k of ['data', 'stringData', 'binaryData']) if (k in out) out[k] = REDACTED;
    }
    if (depth > 0) {
      for (const [k, child] of Object.entries(o)) {
        const s = scrub(child, depth - 1);
        if (s !== child) {
          out ??= { ...o };
          out[k] = s;
        }
      }
    }
    return out ?? v;
  };
  return scrub(obj, 4) as Record<string, unknown>;
}

/** Creates the operator's root logger. */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const env = opts.env ?? {};
  const options: LoggerOptions = {
    name: opts.name ?? 'cra-gate',
    level: resolveLevel(opts.level ?? env.LOG_LEVEL),
    base: { ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    formatters: {
      level: (label) => ({ level: label }),
      log: (o) => redactSecretObjects(o),
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination({ dest: 1, sync: true }));
}

/** Identity of one reconcile, bound to its child logger. */
export interface ReconcileLogContext {
  namespace?: string;
  /** The object's name; logged as `object` because `name` is the logger name (`cra-gate`). */
  name: string;
  /** The object's kind, e.g. `ProductRelease` (optional). */
  kind?: string;
  /** A fresh short id is generated when omitted. */
  reconcileId?: string;
  /** Anything else worth binding (kept bounded). */
  [extra: string]: unknown;
}

/**
 * Returns a child logger for one reconcile, bound to `{ reconcileId, namespace, object, kind? }`. The object's
 * name is bound as `object` so that it does not shadow the base field `name: 'cra-gate'` (pino would
 * otherwise write two `name` keys in one JSON line).
 */
export function reconcileLogger(log: Logger, ctx: ReconcileLogContext): Logger {
  const { reconcileId, name, ...rest } = ctx;
  return log.child({ reconcileId: reconcileId ?? randomUUID().slice(0, 8), ...rest, object: name });
}

/** Flushes buffered log lines (call at shutdown before exiting). Never rejects; bounded by `timeoutMs`. */
export function flushLogger(log: Logger, timeoutMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    t.unref();
    try {
      log.flush(() => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}
