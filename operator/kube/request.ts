/**
 * Per-request options for @kubernetes/client-node's API clients: a Content-Type (patch strategy) and an
 * AbortSignal, so that every API request a reconcile makes is cancelled with it (lost leadership, deadline,
 * shutdown).
 */
import { Observable, type ConfigurationOptions, type ObservableMiddleware, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

export interface RequestOptions {
  contentType?: string;
  signal?: AbortSignal;
}

/** Client options that set the given header and signal on the request (undefined when neither is given). */
export function requestOptions(opts: RequestOptions): ConfigurationOptions | undefined {
  if (!opts.contentType && !opts.signal) return undefined;
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      if (opts.contentType) ctx.setHeaderParam('Content-Type', opts.contentType);
      if (opts.signal) ctx.setSignal(opts.signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** True when `err` is the result of an aborted request or signal. */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || (err as { type?: unknown } | null)?.type === 'aborted';
}
