/**
 * The event emitter of the Node-style classes: eventemitter3 (small, fast, typed) with the one
 * rule of node:events that Node programs rely on: an `'error'` nobody listens to is thrown.
 * @module
 */
import { EventEmitter } from 'eventemitter3';

/**
 * eventemitter3 with node:events' `'error'` rule: emitting `'error'` with no listener throws the
 * error (an uncaught exception where it happens in an I/O callback), instead of dropping it.
 */
export class NodeEmitter<E extends EventEmitter.ValidEventTypes> extends EventEmitter<E> {
  /** Call the listeners of `event`; an unheard `'error'` is thrown, as node:events does. */
  override emit<T extends EventEmitter.EventNames<E>>(event: T, ...args: EventEmitter.EventArgs<E, T>): boolean {
    if (event === 'error' && this.listenerCount(event) === 0) {
      const err: unknown = args[0];
      throw err instanceof Error ? err : new Error(`unhandled 'error' event (${String(err)})`);
    }
    return super.emit(event, ...args);
  }
}
