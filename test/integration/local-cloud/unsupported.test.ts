import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LocalCloud } from '../../../scripts/local-cloud/runtime.js';

describe('template features the local cloud does not emulate', () => {
  let cloud: LocalCloud | undefined;
  afterAll(async () => {
    await cloud?.stop();
  });

  it('are reported at start-up by resource, type and the function they affect, never ignored', async () => {
    // GIVEN an app with a state machine, a Python function, an event-pattern rule and an env var
    // that references an attribute nothing provides
    const outdir = mkdtempSync(join(tmpdir(), 'unsupported-'));
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new Stack(app, `Unsupported-${Date.now().toString(36)}`, {
      env: { account: '123456789012', region: 'us-east-1' },
    });
    new CfnResource(stack, 'Machine', { type: 'AWS::StepFunctions::StateMachine', properties: {} });
    const py = new lambda.Function(stack, 'PythonFn', {
      runtime: lambda.Runtime.PYTHON_3_13,
      handler: 'index.handler',
      code: lambda.Code.fromInline('def handler(e, c): return e'),
      timeout: Duration.seconds(3),
    });
    new events.Rule(stack, 'OnPattern', {
      eventPattern: { source: ['orders'] },
      targets: [new targets.LambdaFunction(py)],
    });
    app.synth();

    // WHEN
    cloud = await LocalCloud.start({
      assemblyDir: outdir,
      port: 0,
      target: { endpoint: inject('engines').awsEndpointUrl, region: 'us-east-1', accountId: '123456789012' },
      log: () => undefined,
    });

    // THEN
    const findings = cloud.unsupported.map((f) => `${f.logicalId}: ${f.message}`);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Machine.*: resource type AWS::StepFunctions::StateMachine is not emulated locally$/,
        ),
        expect.stringMatching(/^PythonFn.*: runtime python3\.13 is not run locally/),
        expect.stringMatching(/^OnPattern.*: event pattern rules are not emulated/),
      ]),
    );
  }, 60_000);
});
