import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.js';
import { EventStoreTable } from '../constructs/event-store-table.js';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Stateful stores: they outlive every deployment of the compute that uses them. */
export class DataStack extends Stack {
  readonly eventStore: EventStoreTable;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.eventStore = new EventStoreTable(this, 'EventStore', {
      removalPolicy: props.config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
