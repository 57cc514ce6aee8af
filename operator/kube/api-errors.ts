/**
 * The error policy for Kubernetes API requests made while reconciling one object (client-go / controller-runtime
 * practice):
 *  - 404: the object is gone — callers handle it (usually "nothing to do");
 *  - 409 Conflict: the object changed concurrently — transient, re-read from the cache and retry;
 *  - 429 Too Many Requests and 5xx, network errors, timeouts: transient — retried with backoff;
 *  - any other 4xx (400, 401, 403, 405, 413, 415, 422, …): terminal for this object version — retrying the same
 *    request cannot succeed until the object (or the operator's RBAC) changes. The reconcile records it (condition +
 *    Event naming the cause) and the queue does not retry; the next change of the object enqueues it again.
 *  - an aborted request (leadership lost, shutdown, deadline): ReconcileCancelled.
 */
import { ApiException } from '@kubernetes/client-node';
import { CraGateError, errorMessage } from '../errors.ts';
import { isAbortError } from './request.ts';

/** The HTTP status of a client-node ApiException (or any error with a numeric `code`), else undefined. */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const c = (err as { code?: unknown; statusCode?: unknown } | null)?.code ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

/** True for a 4xx that no retry of the same request can fix (everything but 404, 409 and 429). */
export function isTerminalStatus(code: number | undefined): boolean {
  return code !== undefined && code >= 400 && code < 500 && code !== 404 && code !== 409 && code !== 429;
}

/** The Status message the API server sent with an error, bounded, when there is one. */
function serverMessage(err: unknown): string | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return errorMessage(body, 300);
    }
  }
  const m = (parsed as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? errorMessage(m, 300) : undefined;
}

/** Classifies an error of an API request into a CraGateError (see the module comment). */
export function apiError(err: unknown, what: string, signal?: AbortSignal): CraGateError {
  if (err instanceof CraGateError) return err;
  if (isAbortError(err, signal)) return new CraGateError('ReconcileCancelled', `${what} cancelled`, { cause: err });
  const code = httpStatus(err);
  const detail = serverMessage(err);
  const suffix = `${code !== undefined ? ` (HTTP ${code})` : ''}${detail ? `: ${detail}` : err instanceof ApiException ? '' : `: ${errorMessage(err)}`}`;
  if (code === 409) return new CraGateError('Conflict', `${what}: the object changed concurrently; retrying`, { cause: err, details: { status: 409 } });
  if (isTerminalStatus(code)) return new CraGateError('ApiRequestRejected', `${what} rejected${suffix}`, { cause: err, details: { status: code } });
  return new CraGateError('ApiServerError', `${what} failed${suffix}`, { cause: err, ...(code !== undefined ? { details: { status: code } } : {}) });
}
