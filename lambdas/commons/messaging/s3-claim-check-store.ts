/** S3 adapter of `ClaimCheckStore`: one object per claim-checked event, in the claim-check bucket. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ClaimCheckRef, ClaimCheckStore } from './claim-check.js';

export class S3ClaimCheckStore implements ClaimCheckStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string): Promise<ClaimCheckRef> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }),
    );
    return { bucket: this.bucket, key };
  }

  async get(ref: ClaimCheckRef): Promise<string> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  }
}
