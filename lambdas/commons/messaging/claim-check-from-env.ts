import { s3Client } from '../clients/s3.js';
import { DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES } from './claim-check.js';
import { S3ClaimCheckStore } from './s3-claim-check-store.js';

/** The claim-check store and threshold named by the environment (CLAIM_CHECK_BUCKET, CLAIM_CHECK_THRESHOLD_BYTES). */
export function claimCheckFromEnv() {
  const bucket = process.env.CLAIM_CHECK_BUCKET;
  return {
    store: bucket ? new S3ClaimCheckStore(s3Client(), bucket) : undefined,
    thresholdBytes: Number(process.env.CLAIM_CHECK_THRESHOLD_BYTES ?? DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES),
  };
}
