/**
 * One keep-alive connection pool per API server and TLS identity for the operator's API requests.
 *
 * @kubernetes/client-node 2.0 builds a new undici Agent for every request (`applySecurityAuthentication` →
 * `createDispatcher`), so every API request opens its own TCP + TLS connection and the API server pays a
 * handshake per status write. {@link apiClient} builds the library's generated API clients through its public
 * extension point — `createConfiguration({ authMethods })` with a {@link SecurityAuthentication} — that lets
 * the library authenticate the request as before (token, exec plugin, client certificate, basic auth) and then
 * replaces the per-request dispatcher with a shared one for the same server and TLS material:
 *
 *  - the pool key is a digest of the server and the TLS material (CA, client certificate/key, verification
 *    settings), read through the public `applyToHTTPSOptions` on every request: a rotated client certificate
 *    (kubeconfig file or exec plugin) is a new identity and gets a new pool; superseded pools are closed
 *    gracefully (running requests finish) beyond {@link MAX_POOLS}. Bearer tokens are headers, so a rotated
 *    token reuses the pool;
 *  - HTTP/1.1 keep-alive, one request per socket at a time (undici would negotiate HTTP/2 by default and
 *    multiplex every request of the pool over one session; after an API server restart — GOAWAY, then the
 *    socket closes — a response still streaming on that session was neither ended nor failed by undici 8.13:
 *    the request hung until its caller's deadline. That is how sharing the library's dispatcher made the
 *    operator miss the 410 Gone in test/integration/faults.test.ts: the watch hung on the shared session and
 *    only the informer's inactivity watchdog re-listed it, 75 s later). On HTTP/1.1 a socket's end fails exactly
 *    the one request on it;
 *  - idle sockets are closed after {@link KEEP_ALIVE_MS}, well below the API server's idle timeout (Go's
 *    http.Server, 90 s in kube-apiserver), so we do not send on a socket the server is closing;
 *  - a request that fails on a dead pooled socket (reset, broken pipe, "other side closed" — an API server
 *    restart) is retried once on a fresh connection when its method is safe to repeat (GET/HEAD); writes are
 *    never replayed, their error goes to the caller (the reconcile is retried by the queue).
 *
 * Watches do NOT use this pool: informer.ts opens each watch with the library's `Watch`, which builds its own
 * dispatcher — a connection of its own whose end (server close, reset, restart) ends that watch and nothing
 * else. Proxied clusters (`proxy-url`) keep the library's own dispatcher per request.
 */
import { createHash } from 'node:crypto';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { Agent, interceptors, type Dispatcher } from 'undici';
import {
  ServerConfiguration,
  createConfiguration,
  type KubeConfig,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { packageVersion } from '../util/version.ts';

/** Idle pooled sockets are closed after this (below kube-apiserver's 90 s idle timeout). */
export const KEEP_ALIVE_MS = 30_000;
/** Pools kept at once (one per TLS identity; the oldest is closed beyond this). */
export const MAX_POOLS = 4;
/** Methods retried once after a connection-level error: only those that are safe to repeat. */
export const RETRIED_METHODS = ['GET', 'HEAD'] as const;
/** Connection-level errors a stale keep-alive socket produces. */
const STALE_SOCKET_ERRORS = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'];

/** What `createDispatcherOptions` answers for a direct TLS connection. */
interface AgentDispatcherOptions {
  type: 'agent';
  connect: Record<string, unknown>;
}

/** A digest of what a pool's connections are made with (secrets only ever as part of a hash). */
function identity(server: string, connect: Record<string, unknown>): string {
  const v = (x: unknown): unknown => (Buffer.isBuffer(x) ? x.toString('base64') : Array.isArray(x) ? x.map(v) : x ?? null);
  const keys = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'];
  return createHash('sha256').update(JSON.stringify([server, ...keys.map((k) => v(connect[k]))])).digest('hex');
}

/** A keep-alive pool for one server + TLS identity, retrying safe requests once after a stale-socket error. */
export function pooledDispatcher(connect: Record<string, unknown>): Dispatcher {
  return new Agent({ connect, allowH2: false, keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS }).compose(
    interceptors.retry({
      maxRetries: 1,
      minTimeout: 0,
      maxTimeout: 0,
      methods: [...RETRIED_METHODS],
      statusCodes: [],
      errorCodes: STALE_SOCKET_ERRORS,
    }),
  );
}

/** The pools of one KubeConfig, by identity (oldest first). */
export class ConnectionPools {
  private readonly pools = new Map<string, Dispatcher>();
  private closed = false;

  /** The pool for `server` with these TLS connect options (made on first use). */
  get(server: string, connect: Record<string, unknown>): Dispatcher {
    const key = identity(server, connect);
    const found = this.pools.get(key);
    if (found) return found;
    if (this.closed) throw new Error('connection pools are closed');
    const pool = pooledDispatcher(connect);
    this.pools.set(key, pool);
    while (this.pools.size > MAX_POOLS) {
      const [oldKey, old] = this.pools.entries().next().value as [string, Dispatcher];
      this.pools.delete(oldKey);
      // Graceful: an undici Agent's close() lets running requests finish first.
      void old.close().catch(() => undefined);
    }
    return pool;
  }

  get size(): number {
    return this.pools.size;
  }

  /** Closes every pool (running requests finish first). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.close().catch(() => undefined)));
  }
}

/**
 * The library's kubeconfig authentication, then the shared pool for the request's server and TLS identity
 * instead of the library's per-request dispatcher.
 */
export class PooledAuthentication implements SecurityAuthentication {
  private readonly kc: KubeConfig;
  readonly pools: ConnectionPools;

  constructor(kc: KubeConfig, pools = new ConnectionPools()) {
    this.kc = kc;
    this.pools = pools;
  }

  getName(): string {
    return 'kubeconfig authentication, pooled connections';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    // No dispatcher: plain HTTP or no TLS material — undici's global dispatcher, which already pools.
    if (context.getDispatcher() === undefined) return;
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) return;
    const https: HttpsRequestOptions = {};
    await this.kc.applyToHTTPSOptions(https);
    const opts = this.kc.createDispatcherOptions(cluster, {
      ...(https.ca !== undefined ? { ca: https.ca } : {}),
      ...(https.cert !== undefined ? { cert: https.cert } : {}),
      ...(https.key !== undefined ? { key: https.key } : {}),
      ...(https.pfx !== undefined ? { pfx: https.pfx } : {}),
      ...(https.passphrase !== undefined ? { passphrase: https.passphrase } : {}),
      ...(https.rejectUnauthorized !== undefined ? { rejectUnauthorized: https.rejectUnauthorized } : {}),
      ...(https.servername !== undefined ? { servername: https.servername } : {}),
    }) as { type: string };
    // Proxies (HTTP CONNECT, SOCKS) keep the library's own dispatcher.
    if (opts.type !== 'agent') return;
    context.setDispatcher(this.pools.get(cluster.server, (opts as AgentDispatcherOptions).connect));
  }
}

const authentications = new WeakMap<KubeConfig, PooledAuthentication>();

/** The pooled authentication of `kc` (one per KubeConfig, shared by every API client made from it). */
export function pooledAuthentication(kc: KubeConfig): PooledAuthentication {
  let auth = authentications.get(kc);
  if (!auth) {
    auth = new PooledAuthentication(kc);
    authentications.set(kc, auth);
  }
  return auth;
}

/** Closes the pools of `kc` (shutdown). */
export async function closeConnections(kc: KubeConfig): Promise<void> {
  await authentications.get(kc)?.pools.close();
  authentications.delete(kc);
}

const USER_AGENT = `cra-gate/${packageVersion()}`;

type ApiConstructor<T> = new (configuration: ReturnType<typeof createConfiguration>) => T;

/**
 * Like `kubeConfig.makeApiClient(Api)`, with every request of the client on the KubeConfig's shared
 * connection pools (see the module comment).
 */
export function apiClient<T>(kc: KubeConfig, api: ApiConstructor<T>): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: pooledAuthentication(kc) },
    promiseMiddleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setHeaderParam('User-Agent', USER_AGENT);
          return Promise.resolve(ctx);
        },
        post: (res) => Promise.resolve(res),
      },
    ],
  });
  return new api(config);
}
