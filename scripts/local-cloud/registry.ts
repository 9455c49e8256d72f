/** What the local cloud knows about each provisioned resource: its Ref value and attributes. */
export interface ResourceState {
  readonly type: string;
  readonly ref: string;
  readonly attrs: Readonly<Record<string, unknown>>;
}

export interface RegisteredResource extends ResourceState {
  readonly stackName: string;
  readonly logicalId: string;
}

/** Resources of every stack by stack name and logical id, plus the stacks' exports. */
export class Registry {
  private readonly stacks = new Map<string, Map<string, ResourceState>>();
  readonly exports = new Map<string, string>();
  /** Resolved `Outputs` per stack, in the shape of `cdk deploy --outputs-file`. */
  readonly outputs: Record<string, Record<string, string>> = {};

  set(stackName: string, logicalId: string, state: ResourceState): void {
    let stack = this.stacks.get(stackName);
    if (!stack) {
      stack = new Map();
      this.stacks.set(stackName, stack);
    }
    stack.set(logicalId, state);
  }

  get(stackName: string, logicalId: string): ResourceState | undefined {
    return this.stacks.get(stackName)?.get(logicalId);
  }

  /** Every resource of a type, across stacks. */
  ofType(type: string): RegisteredResource[] {
    const out: RegisteredResource[] = [];
    for (const [stackName, stack] of this.stacks) {
      for (const [logicalId, state] of stack) {
        if (state.type === type) out.push({ stackName, logicalId, ...state });
      }
    }
    return out;
  }

  /** Finds the resource whose Ref or Arn attribute equals a value (e.g. a queue by its ARN). */
  findByArnOrRef(value: string): RegisteredResource | undefined {
    for (const [stackName, stack] of this.stacks) {
      for (const [logicalId, state] of stack) {
        if (state.ref === value || state.attrs.Arn === value) return { stackName, logicalId, ...state };
      }
    }
    return undefined;
  }
}
