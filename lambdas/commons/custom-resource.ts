/**
 * The CloudFormation contract of a Lambda-backed custom resource, for handlers that CloudFormation
 * invokes directly (no provider framework): the request, and the response PUT to its pre-signed
 * `ResponseURL`. A handler that throws still answers FAILED with the reason, so a deploy fails
 * fast instead of waiting an hour for a response that never comes.
 */
import type { Context } from 'aws-lambda';
import { logger } from './powertools.js';

export interface CustomResourceRequest<P> {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ServiceToken: string;
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: P & { readonly ServiceToken: string };
  readonly OldResourceProperties?: P & { readonly ServiceToken: string };
}

export interface CustomResourceResult {
  readonly physicalResourceId: string;
  /** Attributes for `Fn::GetAtt`; string values only. */
  readonly data?: Readonly<Record<string, string>>;
}

export type CustomResourceHandler<P> = (
  request: CustomResourceRequest<P>,
  context: Context,
) => Promise<CustomResourceResult>;

/** Wraps `handle`: answers SUCCESS with its result, or FAILED with the error's message. */
export function customResource<P>(handle: CustomResourceHandler<P>) {
  return async (request: CustomResourceRequest<P>, context: Context): Promise<void> => {
    logger.addContext(context);
    let body: Record<string, unknown>;
    try {
      const result = await handle(request, context);
      body = { Status: 'SUCCESS', PhysicalResourceId: result.physicalResourceId, Data: result.data ?? {} };
      logger.info('Custom resource applied', { requestType: request.RequestType, ...body });
    } catch (error) {
      logger.error('Custom resource failed', error as Error);
      body = {
        Status: 'FAILED',
        Reason: `${(error as Error).message} (log stream ${context.logStreamName})`.slice(0, 3000),
        // A failed Create still needs an id; keep the old one on Update/Delete.
        PhysicalResourceId: request.PhysicalResourceId ?? `${request.LogicalResourceId}-failed`,
      };
    }
    const response = JSON.stringify({
      ...body,
      StackId: request.StackId,
      RequestId: request.RequestId,
      LogicalResourceId: request.LogicalResourceId,
    });
    const put = await fetch(request.ResponseURL, {
      method: 'PUT',
      // The pre-signed URL is signed for an empty content type.
      headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(response)) },
      body: response,
    });
    if (!put.ok) throw new Error(`CloudFormation refused the response: ${put.status} ${await put.text()}`);
  };
}
