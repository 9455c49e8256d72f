import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** The feature flags of cdk.json, so that tests synthesize what `cdk synth` does. */
export function newApp(extraContext: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJson.context, ...extraContext } });
}

export function newStack(app: App = newApp(), id = 'TestStack'): Stack {
  return new Stack(app, id, { env: { account: '123456789012', region: 'us-east-1' } });
}

export interface Finding {
  readonly rule: string;
  readonly path: string;
}

interface NagReport {
  readonly violations: { ruleName: string; violatingResources: { constructPath: string }[] }[];
}

/**
 * Unacknowledged cdk-nag findings of both packs (errors and warnings) for a scope. The packs read
 * acknowledgements from construct metadata, so this sees exactly what `cdk synth` would fail on.
 */
export function nagFindings(scope: IConstruct): Finding[] {
  const findings: Finding[] = [];
  for (const pack of [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)]) {
    const report = pack.validateScope(scope) as unknown as NagReport;
    for (const v of report.violations) {
      for (const c of v.violatingResources) findings.push({ rule: v.ruleName, path: c.constructPath });
    }
  }
  return findings;
}

export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}

export const NOOP_HANDLER = join(import.meta.dirname, 'fixtures/noop-handler.ts');

/** An IAM policy statement as synthesized. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement): unknown[] =>
  Array.isArray(s.Resource) ? s.Resource : [s.Resource];
/** The logical id a `{ 'Fn::GetAtt': [id, attribute] }` points at, if it is one. */
export const getAttId = (value: unknown): string | undefined =>
  (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
/** The logical id a `{ Ref: id }` points at, if it is one. */
export const refId = (value: unknown): string | undefined => (value as { Ref?: string } | undefined)?.Ref;
