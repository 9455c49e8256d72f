/**
 * The shape every event-sourced aggregate takes (the "decider" pattern): a pure function from the
 * current state and a command to the events it causes, and a pure fold of events into state. No
 * AWS, no Lambda, no I/O: the event store and the handlers do that around it.
 */
export interface DomainEvent<TType extends string = string, TData = unknown> {
  readonly type: TType;
  readonly data: TData;
}

export interface Decider<TState, TCommand, TEvent extends DomainEvent> {
  /** The aggregate type, e.g. `Order`; part of stream names and envelopes. */
  readonly aggregateType: string;
  readonly initialState: TState;
  /** Events a command causes; throws a DomainError when the command is not allowed. */
  decide(state: TState, command: TCommand): readonly TEvent[];
  /** The state after one event; must accept every event `decide` ever produced. */
  evolve(state: TState, event: TEvent): TState;
}

/** A command the aggregate refuses: an invalid transition or a broken invariant. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
