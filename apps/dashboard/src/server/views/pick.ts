/**
 * The named fields of `o` and nothing else, in the order named (a view's JSON keeps that order): the views
 * list what leaves the server field by field, without restating each one as `name: o.name`.
 */
export function pick<T extends object, K extends keyof T>(o: T, ...keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = o[k];
  return out;
}
