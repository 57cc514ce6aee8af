/**
 * @peculiar/x509 resolves its ASN.1 helpers through tsyringe, which insists on a `Reflect.getMetadata`
 * polyfill (the `reflect-metadata` package, not installed here). This is the minimal metadata store it needs
 * (define/get/getOwn/has/metadata on a WeakMap) — no crypto. Import it before @peculiar/x509.
 */
type Target = object;
const store = new WeakMap<Target, Map<string | symbol | undefined, Map<unknown, unknown>>>();

function own(target: Target, prop: string | symbol | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    store.set(target, (byProp = new Map()));
  }
  let m = byProp.get(prop);
  if (!m && create) byProp.set(prop, (m = new Map()));
  return m;
}

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: Target, prop?: string | symbol): void;
  getOwnMetadata(key: unknown, target: Target, prop?: string | symbol): unknown;
  getMetadata(key: unknown, target: Target, prop?: string | symbol): unknown;
  hasMetadata(key: unknown, target: Target, prop?: string | symbol): boolean;
  metadata(key: unknown, value: unknown): (target: Target, prop?: string | symbol) => void;
}

const R = Reflect as unknown as Partial<ReflectMetadata>;
if (typeof R.getMetadata !== 'function') {
  const api: ReflectMetadata = {
    defineMetadata: (key, value, target, prop) => void own(target, prop, true)!.set(key, value),
    getOwnMetadata: (key, target, prop) => own(target, prop, false)?.get(key),
    getMetadata: (key, target, prop) => {
      for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
        const m = own(t, prop, false);
        if (m?.has(key)) return m.get(key);
      }
      return undefined;
    },
    hasMetadata: (key, target, prop) => api.getMetadata(key, target, prop) !== undefined,
    metadata: (key, value) => (target, prop) => api.defineMetadata(key, value, target, prop),
  };
  Object.assign(Reflect, api);
}

export {};
