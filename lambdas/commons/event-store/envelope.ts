/**
 * The envelope every stored event travels in, and the upcasting of old event payloads on read.
 *
 * An envelope is what the event store persists and what the stream carries: the domain event
 * (`type`, `data`) plus its identity, position in the aggregate's stream and tracing ids.
 */
import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '../domain/decider.js';
import { isWellFormed } from '../messaging/well-formed.js';

interface EnvelopeOf<E extends DomainEvent> {
  /** Unique id of this event (a UUID); consumers deduplicate on it. */
  readonly eventId: string;
  readonly type: E['type'];
  /** Version of the `data` schema of this event type (integer, 1-based). */
  readonly schemaVersion: number;
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** Position of the event in the aggregate's stream (integer, 1-based, gap-free). */
  readonly version: number;
  /** ISO-8601 instant the event was decided. */
  readonly occurredAt: string;
  /** Id of the request/conversation this event belongs to. */
  readonly correlationId: string;
  /** Id of the message (command or event) that directly caused this event. */
  readonly causationId: string;
  readonly data: E['data'];
}

/** An envelope per member of the event union, so `type` still discriminates `data`. */
export type EventEnvelope<E extends DomainEvent = DomainEvent> = E extends DomainEvent
  ? EnvelopeOf<E>
  : never;

export interface EnvelopeMetadata {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly correlationId: string;
  readonly causationId: string;
  /** Defaults to 1. */
  readonly schemaVersion?: number;
  /** Defaults to now. */
  readonly occurredAt?: string;
  /** Defaults to a fresh `crypto.randomUUID()`. */
  readonly eventId?: string;
}

export function createEnvelope<E extends DomainEvent>(event: E, meta: EnvelopeMetadata): EventEnvelope<E> {
  assertPositiveInteger('version', meta.version);
  const schemaVersion = meta.schemaVersion ?? 1;
  assertPositiveInteger('schemaVersion', schemaVersion);
  const eventId = meta.eventId ?? randomUUID();
  for (const [name, value] of Object.entries({
    eventId,
    type: event.type,
    aggregateType: meta.aggregateType,
    aggregateId: meta.aggregateId,
    correlationId: meta.correlationId,
    causationId: meta.causationId,
  })) {
    assertId(name, value);
  }
  const envelope: EnvelopeOf<E> = {
    eventId,
    type: event.type,
    schemaVersion,
    aggregateType: meta.aggregateType,
    aggregateId: meta.aggregateId,
    version: meta.version,
    occurredAt: meta.occurredAt ?? new Date().toISOString(),
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    data: event.data,
  };
  return envelope as EventEnvelope<E>;
}

/** The domain event inside an envelope (what `Decider.evolve` takes). */
export function toDomainEvent<E extends DomainEvent>(envelope: EventEnvelope<E>): E {
  return { type: envelope.type, data: envelope.data } as E;
}

/** Turns the `data` of one event type at schema version `fromVersion` into `fromVersion + 1`. */
export type Upcaster = (data: unknown) => unknown;

export class UpcastError extends Error {
  constructor(
    readonly eventType: string,
    readonly schemaVersion: number,
    message: string,
  ) {
    super(message);
    this.name = 'UpcastError';
  }
}

/**
 * Registry of upcasters keyed by (event type, fromVersion). The current schema version of a type
 * is one past the highest registered `fromVersion` (1 when none is registered). Reading applies
 * the chain `v → v+1 → … → current`; a missing link is an error, never silently skipped.
 */
export class Upcasters {
  readonly #steps = new Map<string, Map<number, Upcaster>>();

  /** Registers the step `fromVersion → fromVersion + 1` of `type`; chainable. */
  register(type: string, fromVersion: number, upcaster: Upcaster): this {
    assertPositiveInteger('fromVersion', fromVersion);
    let steps = this.#steps.get(type);
    if (!steps) {
      steps = new Map();
      this.#steps.set(type, steps);
    }
    if (steps.has(fromVersion)) {
      throw new Error(`An upcaster for ${type} v${fromVersion} is already registered`);
    }
    steps.set(fromVersion, upcaster);
    return this;
  }

  /** The schema version new events of `type` are written with. */
  currentVersion(type: string): number {
    const steps = this.#steps.get(type);
    return steps && steps.size > 0 ? Math.max(...steps.keys()) + 1 : 1;
  }

  /** The envelope with its `data` brought to the current schema version of its type. */
  upcast<E extends DomainEvent = DomainEvent>(envelope: EventEnvelope): EventEnvelope<E> {
    const current = this.currentVersion(envelope.type);
    if (envelope.schemaVersion > current) {
      throw new UpcastError(
        envelope.type,
        envelope.schemaVersion,
        `${envelope.type} v${envelope.schemaVersion} is newer than this code knows (v${current})`,
      );
    }
    if (envelope.schemaVersion === current) return envelope as EventEnvelope<E>;
    const steps = this.#steps.get(envelope.type);
    let data: unknown = envelope.data;
    for (let v = envelope.schemaVersion; v < current; v++) {
      const step = steps?.get(v);
      if (!step) {
        throw new UpcastError(envelope.type, v, `No upcaster for ${envelope.type} v${v} → v${v + 1}`);
      }
      data = step(data);
    }
    return { ...envelope, schemaVersion: current, data } as EventEnvelope<E>;
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  }
}

/**
 * Ids of an envelope are non-empty well-formed text: one holding a lone UTF-16 surrogate would be
 * stored, then refused by every reader (`readStoredRecord`), so it is refused before it is written.
 */
function assertId(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RangeError(`${name} must be a non-empty string`);
  }
  if (!isWellFormed(value)) {
    throw new RangeError(`${name} must be well-formed Unicode (it holds a lone UTF-16 surrogate)`);
  }
}
