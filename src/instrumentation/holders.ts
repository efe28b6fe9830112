/**
 * What keeps a call from ending as `unread`: the objects the app could still read its answer
 * through (its APIPromise, its Stream, a raw body being read). When the last one is garbage, the
 * call ends as unread. Only objects the app truly holds while reading may be registered.
 */
export interface Held {
  addHolder(): void;
  releaseHolder(): void;
}

const unreadRegistry = new FinalizationRegistry<Held>((call) => call.releaseHolder());

/** `holder` keeps `call` open until it is garbage-collected. */
export function holdWhileAlive(holder: object, call: Held): void {
  call.addHolder();
  unreadRegistry.register(holder, call, call);
}

/**
 * The call ended: the registry lets go of it at once. (Until a holder's cleanup has run, the
 * registry holds the call strongly: without this, every finished call, with its answer, would
 * live until the garbage collector got round to its APIPromise's cleanup.)
 */
export function letGo(call: Held): void {
  unreadRegistry.unregister(call);
}
