import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../../scripts/local-cloud/assembly.js';
import {
  dependenciesOf,
  evaluateConditions,
  type ResolveContext,
  resolve,
  stackExports,
  UnresolvableError,
  withTemplate,
} from '../../../scripts/local-cloud/intrinsics.js';

const REFS: Record<string, string> = {
  Queue1: 'https://sqs.eu-west-1.localhost/123456789012/q1',
  Table1: 'table-1',
  Env: 'prod',
  Csv: 'a,b,c',
};
const ATTS: Record<string, unknown> = {
  'Queue1.Arn': 'arn:aws:sqs:eu-west-1:123456789012:q1',
  'Table1.Arn': 'arn:aws:dynamodb:eu-west-1:123456789012:table/table-1',
  'Db.Endpoint.Address': 'db.local',
  'Lb.SecurityGroups': ['sg-1', 'sg-2'],
};
const EXPORTS: Record<string, string> = { 'A:QueueArn': 'arn:aws:sqs:eu-west-1:123456789012:q1' };

function context(extra: Partial<ResolveContext> = {}): ResolveContext {
  return {
    stackName: 'StackB',
    region: 'eu-west-1',
    accountId: '123456789012',
    ref: (id) => REFS[id],
    getAtt: (id, attr) => ATTS[`${id}.${attr}`],
    importValue: (name) => EXPORTS[name],
    ...extra,
  };
}

const ctx = context();

function unresolvable(fn: () => unknown): UnresolvableError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnresolvableError);
    return e as UnresolvableError;
  }
  throw new Error('expected an UnresolvableError');
}

describe('resolve: plain values', () => {
  it('returns scalars, arrays and objects without intrinsics unchanged (deeply)', () => {
    const value = { a: 1, b: 'x', c: [true, null, { d: 'e' }], f: {} };
    expect(resolve(value, ctx)).toEqual(value);
    expect(resolve('s', ctx)).toBe('s');
    expect(resolve(undefined, ctx)).toBeUndefined();
  });

  it('treats a Condition key holding an object as an ordinary property (IAM statements)', () => {
    const statement = { Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } };
    expect(resolve(statement, ctx)).toEqual({
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
  });
});

describe('Ref', () => {
  it('resolves resources and parameters through ctx.ref', () => {
    expect(resolve({ Ref: 'Queue1' }, ctx)).toBe(REFS.Queue1);
    expect(resolve({ Ref: 'Env' }, ctx)).toBe('prod');
  });

  it('resolves pseudo parameters', () => {
    expect(resolve({ Ref: 'AWS::Region' }, ctx)).toBe('eu-west-1');
    expect(resolve({ Ref: 'AWS::AccountId' }, ctx)).toBe('123456789012');
    expect(resolve({ Ref: 'AWS::Partition' }, ctx)).toBe('aws');
    expect(resolve({ Ref: 'AWS::Partition' }, context({ partition: 'aws-cn' }))).toBe('aws-cn');
    expect(resolve({ Ref: 'AWS::StackName' }, ctx)).toBe('StackB');
    expect(resolve({ Ref: 'AWS::URLSuffix' }, ctx)).toBe('amazonaws.com');
    expect(resolve({ Ref: 'AWS::NotificationARNs' }, ctx)).toEqual([]);
  });

  it('gives AWS::StackId a stable UUID suffix that the CDK unique-name idiom can split', () => {
    const stackId = resolve({ Ref: 'AWS::StackId' }, ctx) as string;
    expect(stackId).toMatch(
      /^arn:aws:cloudformation:eu-west-1:123456789012:stack\/StackB\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(resolve({ Ref: 'AWS::StackId' }, ctx)).toBe(stackId);
    // What CDK emits for names that must be unique per stack.
    const suffix = {
      'Fn::Select': [
        4,
        { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
      ],
    };
    expect(resolve(suffix, ctx)).toBe(stackId.split('-').at(-1));
  });

  it('drops keys and array elements that are AWS::NoValue', () => {
    expect(
      resolve(
        { A: { Ref: 'AWS::NoValue' }, B: [1, { Ref: 'AWS::NoValue' }, 2], C: { D: { Ref: 'AWS::NoValue' } } },
        ctx,
      ),
    ).toEqual({ B: [1, 2], C: {} });
    expect(resolve({ Ref: 'AWS::NoValue' }, ctx)).toBeUndefined();
  });

  it('fails on unknown logical ids and pseudo parameters, naming the path', () => {
    const e = unresolvable(() => resolve({ Env: { QUEUE: { Ref: 'Nope' } } }, ctx, 'Fn1.Properties'));
    expect(e.path).toBe('Fn1.Properties.Env.QUEUE');
    expect(e.message).toBe('Fn1.Properties.Env.QUEUE: Ref Nope is not known');
    expect(unresolvable(() => resolve({ Ref: 'AWS::Bogus' }, ctx)).message).toMatch(/AWS::Bogus/);
  });
});

describe('Fn::GetAtt', () => {
  it('resolves the array and the dotted string form', () => {
    expect(resolve({ 'Fn::GetAtt': ['Queue1', 'Arn'] }, ctx)).toBe(ATTS['Queue1.Arn']);
    expect(resolve({ 'Fn::GetAtt': 'Queue1.Arn' }, ctx)).toBe(ATTS['Queue1.Arn']);
    // Attribute names with dots: the logical id ends at the first dot.
    expect(resolve({ 'Fn::GetAtt': 'Db.Endpoint.Address' }, ctx)).toBe('db.local');
    expect(resolve({ 'Fn::GetAtt': ['Db', 'Endpoint.Address'] }, ctx)).toBe('db.local');
  });

  it('returns non-string attributes as they are', () => {
    expect(resolve({ 'Fn::GetAtt': ['Lb', 'SecurityGroups'] }, ctx)).toEqual(['sg-1', 'sg-2']);
  });

  it('fails on unknown attributes with the path and the attribute', () => {
    const props = { Environment: { Variables: { TABLE: { 'Fn::GetAtt': ['Table1', 'StreamArn'] } } } };
    const e = unresolvable(() => resolve(props, ctx));
    expect(e.message).toBe('Environment.Variables.TABLE: Fn::GetAtt Table1.StreamArn is not known');
    expect(e.path).toBe('Environment.Variables.TABLE');
    expect(e.reason).toBe('Fn::GetAtt Table1.StreamArn is not known');
  });

  it('names array indices in the path', () => {
    const e = unresolvable(() => resolve({ Arns: ['x', { 'Fn::GetAtt': ['Nope', 'Arn'] }] }, ctx, 'R'));
    expect(e.path).toBe('R.Arns[1]');
  });
});

describe('Fn::Join, Fn::Split, Fn::Select', () => {
  it('joins resolved parts, including nested intrinsics', () => {
    const arn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':s3:::',
          { Ref: 'Table1' },
          '/',
          { 'Fn::Select': [1, ['x', 'y']] },
        ],
      ],
    };
    expect(resolve(arn, ctx)).toBe('arn:aws:s3:::table-1/y');
  });

  it('joins a list produced by another intrinsic and skips NoValue parts', () => {
    expect(resolve({ 'Fn::Join': ['|', { 'Fn::Split': [',', { Ref: 'Csv' }] }] }, ctx)).toBe('a|b|c');
    expect(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'AWS::NoValue' }, 'b']] }, ctx)).toBe('a-b');
  });

  it('splits and selects', () => {
    expect(resolve({ 'Fn::Split': [':', { 'Fn::GetAtt': ['Queue1', 'Arn'] }] }, ctx)).toEqual([
      'arn',
      'aws',
      'sqs',
      'eu-west-1',
      '123456789012',
      'q1',
    ]);
    expect(
      resolve({ 'Fn::Select': ['5', { 'Fn::Split': [':', { 'Fn::GetAtt': 'Queue1.Arn' }] }] }, ctx),
    ).toBe('q1');
    expect(resolve({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, ctx)).toBe('eu-west-1a');
  });

  it('fails on an index out of range and on malformed arguments', () => {
    expect(unresolvable(() => resolve({ X: { 'Fn::Select': [3, ['a']] } }, ctx)).message).toMatch(
      /^X: Fn::Select index 3 out of range/,
    );
    expect(unresolvable(() => resolve({ 'Fn::Join': ['-'] }, ctx)).message).toMatch(/Fn::Join is malformed/);
    expect(unresolvable(() => resolve({ 'Fn::Join': ['-', 'notalist'] }, ctx)).message).toMatch(
      /needs a list/,
    );
  });
});

describe('Fn::Sub', () => {
  it('substitutes refs, attributes and pseudo parameters', () => {
    expect(
      resolve(
        { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Table1}/${Queue1.Arn}' },
        ctx,
      ),
    ).toBe(`arn:aws:sqs:eu-west-1:123456789012:table-1/${ATTS['Queue1.Arn']}`);
    expect(resolve({ 'Fn::Sub': 'https://s3.${AWS::URLSuffix}/${AWS::StackName}' }, ctx)).toBe(
      'https://s3.amazonaws.com/StackB',
    );
  });

  it('keeps ${!Literal} as a literal ${Literal}', () => {
    expect(resolve({ 'Fn::Sub': 'echo ${!HOME} in ${AWS::Region}' }, ctx)).toBe('echo ${HOME} in eu-west-1');
    expect(resolve({ 'Fn::Sub': ['${!Name}=${Name}', { Name: 'v' }] }, ctx)).toBe('${Name}=v');
  });

  it('takes variables from the [string, vars] form, resolving them; vars shadow logical ids', () => {
    const value = {
      'Fn::Sub': [
        '${Url}#${Table1}#${Queue1}',
        { Url: { 'Fn::Join': ['', ['https://', { Ref: 'Table1' }]] }, Queue1: 'shadowed' },
      ],
    };
    expect(resolve(value, ctx)).toBe('https://table-1#table-1#shadowed');
  });

  it('does not substitute into substituted values', () => {
    expect(resolve({ 'Fn::Sub': ['${A}', { A: '${Table1}' }] }, ctx)).toBe('${Table1}');
  });

  it('fails on unknown variables and attributes with the path', () => {
    expect(unresolvable(() => resolve({ V: { 'Fn::Sub': 'x-${Missing}' } }, ctx)).message).toBe(
      'V: Fn::Sub ${Missing}: Missing is not known',
    );
    expect(unresolvable(() => resolve({ V: { 'Fn::Sub': '${Table1.StreamArn}' } }, ctx)).message).toBe(
      'V: Fn::GetAtt Table1.StreamArn is not known',
    );
  });
});

describe('Fn::ImportValue, Fn::Base64, Fn::GetAZs', () => {
  it('imports exports, with a computed name', () => {
    expect(resolve({ 'Fn::ImportValue': 'A:QueueArn' }, ctx)).toBe(EXPORTS['A:QueueArn']);
    expect(resolve({ 'Fn::ImportValue': { 'Fn::Join': [':', ['A', 'QueueArn']] } }, ctx)).toBe(
      EXPORTS['A:QueueArn'],
    );
  });

  it('fails on a name nobody exports', () => {
    expect(unresolvable(() => resolve({ Value: { 'Fn::ImportValue': 'B:Nope' } }, ctx)).message).toBe(
      'Value: Fn::ImportValue B:Nope is not exported by any stack',
    );
  });

  it('encodes Base64 of a resolved string', () => {
    const encoded = resolve({ 'Fn::Base64': { 'Fn::Sub': '#!/bin/sh\necho ${AWS::Region}' } }, ctx) as string;
    expect(Buffer.from(encoded, 'base64').toString()).toBe('#!/bin/sh\necho eu-west-1');
  });

  it('lists three AZs of the region', () => {
    expect(resolve({ 'Fn::GetAZs': '' }, ctx)).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    expect(resolve({ 'Fn::GetAZs': { Ref: 'AWS::Region' } }, ctx)).toEqual([
      'eu-west-1a',
      'eu-west-1b',
      'eu-west-1c',
    ]);
  });
});

describe('conditions', () => {
  const conditionalCtx = context({ condition: (name) => name === 'IsProd' });

  it('evaluates Fn::If with ctx.condition, including NoValue branches', () => {
    const props = {
      Size: { 'Fn::If': ['IsProd', 10, 1] },
      Name: { 'Fn::If': ['IsDev', 'dev', { Ref: 'Table1' }] },
      Extra: { 'Fn::If': ['IsDev', 'x', { Ref: 'AWS::NoValue' }] },
      List: ['a', { 'Fn::If': ['IsDev', 'b', { Ref: 'AWS::NoValue' }] }],
    };
    expect(resolve(props, conditionalCtx)).toEqual({ Size: 10, Name: 'table-1', List: ['a'] });
  });

  it('only resolves the branch taken', () => {
    expect(resolve({ 'Fn::If': ['IsProd', 'ok', { Ref: 'Missing' }] }, conditionalCtx)).toBe('ok');
  });

  it('evaluates Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition references', () => {
    expect(resolve({ 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] }, ctx)).toBe(true);
    expect(resolve({ 'Fn::Equals': ['1', 1] }, ctx)).toBe(true);
    expect(resolve({ 'Fn::Not': [{ 'Fn::Equals': ['a', 'b'] }] }, ctx)).toBe(true);
    expect(
      resolve({ 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['a', 'a'] }] }, conditionalCtx),
    ).toBe(true);
    expect(resolve({ 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'IsDev' }] }, conditionalCtx)).toBe(
      false,
    );
    expect(resolve({ 'Fn::Or': [{ Condition: 'IsDev' }, { Condition: 'IsProd' }] }, conditionalCtx)).toBe(
      true,
    );
    expect(
      resolve({ 'Fn::Or': [{ Condition: 'IsDev' }, { 'Fn::Equals': ['a', 'b'] }] }, conditionalCtx),
    ).toBe(false);
  });

  it('fails when a condition is needed but the context has none', () => {
    expect(unresolvable(() => resolve({ X: { 'Fn::If': ['IsProd', 1, 2] } }, ctx)).message).toBe(
      'X: Fn::If: condition IsProd cannot be evaluated',
    );
  });

  it('evaluates template Conditions that refer to parameters and to each other', () => {
    const template: CfnTemplate = {
      Resources: {},
      Conditions: {
        IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
        IsEu: { 'Fn::Equals': [{ 'Fn::Select': [0, { 'Fn::Split': ['-', { Ref: 'AWS::Region' }] }] }, 'eu'] },
        ProdOutsideEu: { 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Not': [{ Condition: 'IsEu' }] }] },
        ProdOrEu: { 'Fn::Or': [{ Condition: 'IsProd' }, { Condition: 'IsEu' }] },
      },
    };
    expect(evaluateConditions(template, ctx)).toEqual({
      IsProd: true,
      IsEu: true,
      ProdOutsideEu: false,
      ProdOrEu: true,
    });
    expect(evaluateConditions({ Conditions: undefined }, ctx)).toEqual({});
  });

  it('reports cyclic and undefined template conditions', () => {
    expect(() => evaluateConditions({ Conditions: { A: { Condition: 'A' } } }, ctx)).toThrow(
      /A refers to itself/,
    );
    expect(() => evaluateConditions({ Conditions: { A: { Condition: 'B' } } }, ctx)).toThrow(
      'Conditions.B: condition B is not defined',
    );
  });

  it('withTemplate wires the template Conditions and Mappings into a context', () => {
    const template: CfnTemplate = {
      Resources: {},
      Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
      Mappings: { Sizes: { prod: { Memory: 1024 } } },
    };
    const full = withTemplate(template, ctx);
    expect(
      resolve({ 'Fn::If': ['IsProd', { 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Memory'] }, 128] }, full),
    ).toBe(1024);
    expect(full.ref('Table1')).toBe('table-1');
    expect(() => full.condition?.('Nope')).toThrow(UnresolvableError);
  });
});

describe('Fn::FindInMap', () => {
  const mapped = context({
    mappings: { RegionMap: { 'eu-west-1': { Ami: 'ami-eu', Zones: ['a', 'b'] } } },
  });

  it('looks up the mapping, with intrinsic keys', () => {
    expect(resolve({ 'Fn::FindInMap': ['RegionMap', { Ref: 'AWS::Region' }, 'Ami'] }, mapped)).toBe('ami-eu');
    expect(resolve({ 'Fn::FindInMap': ['RegionMap', 'eu-west-1', 'Zones'] }, mapped)).toEqual(['a', 'b']);
  });

  it('falls back to DefaultValue, else fails naming the keys', () => {
    expect(
      resolve({ 'Fn::FindInMap': ['RegionMap', 'us-east-1', 'Ami', { DefaultValue: 'ami-x' }] }, mapped),
    ).toBe('ami-x');
    expect(
      unresolvable(() => resolve({ I: { 'Fn::FindInMap': ['RegionMap', 'us-east-1', 'Ami'] } }, mapped))
        .message,
    ).toBe("I: Fn::FindInMap RegionMap.us-east-1.Ami is not in the template's Mappings");
    expect(unresolvable(() => resolve({ 'Fn::FindInMap': ['M', 'a', 'b'] }, ctx)).reason).toMatch(/M\.a\.b/);
  });
});

describe('unsupported intrinsics', () => {
  it('fail naming the function and the path', () => {
    const e = unresolvable(() => resolve({ Cidrs: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] } }, ctx, 'Vpc'));
    expect(e.message).toBe('Vpc.Cidrs: Fn::Cidr is not supported');
    expect(e.path).toBe('Vpc.Cidrs');
  });

  it('leave objects with several keys, or without the Fn:: prefix, as data', () => {
    expect(resolve({ 'Fn::Bogus': 1, Other: 2 }, ctx)).toEqual({ 'Fn::Bogus': 1, Other: 2 });
    expect(resolve({ Custom: { 'Fn::Join': ['', ['a', 'b']] } }, ctx)).toEqual({ Custom: 'ab' });
  });
});

describe('stackExports', () => {
  const template: CfnTemplate = {
    Resources: {},
    Outputs: {
      QueueArnOut: { Value: { 'Fn::GetAtt': ['Queue1', 'Arn'] }, Export: { Name: 'StackA:QueueArn' } },
      UrlOut: { Value: { Ref: 'Queue1' }, Export: { Name: { 'Fn::Sub': '${AWS::StackName}-Url' } } },
      Zones: { Value: { 'Fn::GetAZs': '' }, Export: { Name: 'Zones' } },
      NotExported: { Value: { Ref: 'Table1' } },
      OnlyInDev: { Value: 'dev', Export: { Name: 'DevOnly' }, Condition: 'IsDev' },
    },
  };

  it('maps export names to resolved values, skipping unexported and conditioned-out outputs', () => {
    expect(stackExports({ template }, context({ condition: () => false }))).toEqual({
      'StackA:QueueArn': ATTS['Queue1.Arn'],
      'StackB-Url': REFS.Queue1,
      Zones: 'eu-west-1a,eu-west-1b,eu-west-1c',
    });
  });

  it('throws on an unresolvable output unless asked to skip it', () => {
    const broken: CfnTemplate = {
      Resources: {},
      Outputs: {
        Good: { Value: 'v', Export: { Name: 'good' } },
        Bad: { Value: { 'Fn::GetAtt': ['Gone', 'Arn'] }, Export: { Name: 'bad' } },
      },
    };
    expect(() => stackExports({ template: broken }, ctx)).toThrow(
      'Outputs.Bad.Value: Fn::GetAtt Gone.Arn is not known',
    );
    expect(stackExports({ template: broken }, ctx, { skipUnresolvable: true })).toEqual({ good: 'v' });
  });
});

describe('dependenciesOf', () => {
  it('lists refs and attributes, once each, in order, without pseudo parameters', () => {
    const value = {
      A: { Ref: 'Queue1' },
      B: [{ 'Fn::GetAtt': ['Table1', 'Arn'] }, { 'Fn::GetAtt': 'Db.Endpoint.Address' }],
      C: { 'Fn::Join': ['', [{ Ref: 'AWS::Region' }, { Ref: 'Queue1' }, { Ref: 'Env' }]] },
      D: { 'Fn::Sub': '${Bucket}/${Role.Arn}/${AWS::AccountId}/${!Literal}' },
      E: { 'Fn::Sub': ['${Own}-${Topic}', { Own: { 'Fn::GetAtt': ['Key', 'Arn'] } }] },
      F: { 'Fn::If': ['Cond', { Ref: 'Yes' }, { Ref: 'No' }] },
      G: { 'Fn::GetAtt': ['Table1', 'Arn'] },
      H: { Ref: 'AWS::NoValue' },
      I: { 'Fn::ImportValue': 'Other:Export' },
    };
    expect(dependenciesOf(value)).toEqual({
      refs: ['Queue1', 'Env', 'Bucket', 'Topic', 'Yes', 'No'],
      getAtts: [
        ['Table1', 'Arn'],
        ['Db', 'Endpoint.Address'],
        ['Role', 'Arn'],
        ['Key', 'Arn'],
      ],
    });
  });

  it('is empty for plain values', () => {
    expect(dependenciesOf({ a: 1, b: ['x'], c: null })).toEqual({ refs: [], getAtts: [] });
    expect(dependenciesOf('${NotASub}')).toEqual({ refs: [], getAtts: [] });
  });
});
