/**
 * Per-request options for @kubernetes/client-node's promise API: a Content-Type (patch strategy) and an
 * AbortSignal, so that every API request a reconcile makes is cancelled with it (lost leadership, deadline,
 * shutdown).
 */
import type { ConfigurationOptions, Middleware as PromiseMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';

export interface RequestOptions {
  contentType?: string;
  signal?: AbortSignal;
}

/** Client options that set the given header and signal on the request (undefined when neither is given). */
export function requestOptions(opts: RequestOptions): ConfigurationOptions<PromiseMiddleware> | undefined {
  if (!opts.contentType && !opts.signal) return undefined;
  const middleware: PromiseMiddleware = {
    pre: (ctx: RequestContext) => {
      if (opts.contentType) ctx.setHeaderParam('Content-Type', opts.contentType);
      if (opts.signal) ctx.setSignal(opts.signal);
      return Promise.resolve(ctx);
    },
    post: (res: ResponseContext) => Promise.resolve(res),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** True when `err` is the result of an aborted request or signal. */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || (err as { type?: unknown } | null)?.type === 'aborted';
}
