/**
 * A tiny typed event emitter for the device. A listener that throws never breaks the device:
 * its error goes to `onListenerError` (the device logs it) and the other listeners still run.
 */

/** Subscribes and emits events of the map `E`. */
export interface Emitter<E> {
  on<K extends keyof E>(event: K, listener: (value: E[K]) => void): () => void;
  emit<K extends keyof E>(event: K, value: E[K]): void;
  /** Number of listeners for `event`. */
  count(event: keyof E): number;
  clear(): void;
}

/** Creates an emitter; `onListenerError` receives what a listener threw. */
export function createEmitter<E>(onListenerError: (event: keyof E, error: unknown) => void = () => {}): Emitter<E> {
  const listeners = new Map<keyof E, Set<(value: never) => void>>();
  return {
    on(event, listener) {
      let set = listeners.get(event);
      if (set === undefined) listeners.set(event, (set = new Set()));
      // Wrap so the same function can be added twice and removed once per `on`.
      const entry = (v: never) => listener(v);
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    emit(event, value) {
      const set = listeners.get(event);
      if (set === undefined) return;
      for (const l of [...set]) {
        try {
          (l as (v: typeof value) => void)(value);
        } catch (e) {
          onListenerError(event, e);
        }
      }
    },
    count: (event) => listeners.get(event)?.size ?? 0,
    clear: () => listeners.clear(),
  };
}
