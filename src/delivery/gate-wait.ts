import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Lets the delivery worker know when a lane is waiting in the rate gate for its endpoint's
 * budget, without the destination and the Sailthru client in between having to carry it: the
 * worker runs each delivery under a listener (AsyncLocalStorage follows the calls the delivery
 * makes), and the gate reports to the listener of the request it holds back. A lane waiting
 * for one endpoint then does not keep a delivery slot from a lane that needs another
 * (decisions.md, "A lane waiting for its endpoint's budget gives up its slot").
 */
export interface GateWaitListener {
  /** A request of this delivery has to wait for its endpoint's budget. */
  waiting(): void;
  /** That request has been let through (called once per `waiting`). */
  granted(): void;
}

const listeners = new AsyncLocalStorage<GateWaitListener>();

/** Runs `deliver` with `listener` told of every gate wait of the requests it makes. */
export function withGateWaitListener<T>(listener: GateWaitListener, deliver: () => Promise<T>): Promise<T> {
  return listeners.run(listener, deliver);
}

/** The listener of the delivery making the current request, if any (requests outside deliveries: none). */
export function currentGateWaitListener(): GateWaitListener | undefined {
  return listeners.getStore();
}
