/**
 * Stands in for `avsc` in Lambda bundles: the Kafka client imports it only for Confluent Schema
 * Registry Avro support, which the platform does not use (its events are JSON with zod schemas).
 * Aliased by the PlatformFunction bundling; it saves some 100 KB per Kafka function.
 */
const unavailable = (): never => {
  throw new Error('Avro (avsc) is not bundled: the platform does not use the schema registry');
};

export default { Type: { forSchema: unavailable } };
