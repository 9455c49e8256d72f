import { type Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

export interface ScheduleProps {
  readonly every: Duration;
  readonly description: string;
  /** What the function's run does again at the next tick (the reason a missed tick needs no DLQ). */
  readonly nextTickDoes: string;
}

/**
 * Runs `fn` on a fixed rate (EventBridge), without retries: a tick carries no data, so a missed or
 * failed one loses nothing and the next tick does the same work. The Serverless pack's
 * "target without a DLQ" finding is acknowledged on the rule with that reason.
 */
export function scheduleFunction(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  props: ScheduleProps,
): events.Rule {
  const rule = new events.Rule(scope, id, {
    description: props.description,
    schedule: events.Schedule.rate(props.every),
    targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
  });
  Validations.of(rule).acknowledge({
    id: 'Serverless-EventBusDLQ',
    reason: `A schedule tick carries no data: a missed one loses nothing, and the next tick ${props.nextTickDoes}`,
  });
  return rule;
}
