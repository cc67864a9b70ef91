import { requiredText, type Payload } from '../payload.ts';
import { otherError } from '../sailthru-error.ts';
import type { EndpointContext } from './context.ts';

export function postJob(payload: Payload, ctx: EndpointContext): unknown {
  const job = ctx.jobs.submit(payload, ctx.nowMs);
  return { job_id: job.job_id, name: job.name, status: job.status, start_time: job.start_time };
}

export function getJob(payload: Payload, ctx: EndpointContext): unknown {
  const jobId = requiredText(payload, 'job_id');
  const job = ctx.state.jobs.get(jobId);
  if (!job) throw otherError(`Unknown job_id: ${jobId}`);
  return { ...job };
}
