/**
 * How the fulfilment services record outcomes on an order: a command through the Order aggregate,
 * where "the order has moved on" (cancelled meanwhile, already recorded by a redelivery) is an
 * expected outcome, not an error. Pure of AWS: takes the repository.
 */
import { DomainError } from '../../commons/domain/decider.js';
import type { AggregateRepository, CommandMetadata } from '../../commons/event-store/repository.js';
import type { LoadedOrder, OrderCommand, OrderEvent, OrderState } from '../domain/order.js';

export type RecordOutcome = 'recorded' | 'stale';

/** Codes that mean the command is no longer applicable to the order. */
const STALE_CODES = new Set(['INVALID_TRANSITION', 'ORDER_NOT_FOUND']);

export class OrderCommands {
  constructor(readonly repository: AggregateRepository<OrderState, OrderCommand, OrderEvent>) {}

  async record(orderId: string, command: OrderCommand, metadata: CommandMetadata): Promise<RecordOutcome> {
    try {
      await this.repository.handle(orderId, command, metadata);
      return 'recorded';
    } catch (error) {
      if (error instanceof DomainError && STALE_CODES.has(error.code)) return 'stale';
      throw error;
    }
  }

  async load(orderId: string): Promise<OrderState> {
    return (await this.repository.load(orderId)).state;
  }

  /** The order with its version and the identities of its events (what consumers guard on). */
  async loadOrder(orderId: string): Promise<LoadedOrder> {
    const { state, version, replayed } = await this.repository.load(orderId);
    return { state, version, replayed };
  }
}
