/**
 * The one result type of fallible functions across NN Lens: shape rules, compile-time numbers,
 * parsing of data and arguments. Expected failures are values (`{ ok: false, error }`), never
 * exceptions; exceptions are for bugs and I/O that cannot go on.
 */
export type Result<T, E = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
