/**
 * A value now, or a promise of it when I/O is needed. The hot paths (a cached
 * credential, a socket's re-check at each event) answer synchronously: with
 * Node 20's promise hooks on (MikroORM's AsyncLocalStorage), every promise on
 * a request's path costs, and most requests need none.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `next` applied to `value`: at once when it is there, else when it arrives.
 * `failed` takes a rejection of the promise (a synchronous value cannot fail).
 */
export function andThen<T, R>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<R>,
  failed?: (error: unknown) => MaybePromise<R>,
): MaybePromise<R> {
  return value instanceof Promise ? value.then(next, failed) : next(value);
}
