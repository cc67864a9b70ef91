import type { FastifyError } from 'fastify';
import Type, { type Static } from 'typebox';
import { MAX_REQUEST_BYTES } from '../segment/limits.ts';
import { statusOf, type ErrorCode } from './error-codes.ts';

/**
 * The answers of the ingest routes (DESIGN.md "Contracts"): 200 `{"success": true}` once stored,
 * with the refused events listed; every error is
 * `{"success": false, "error": "<message>", "code": "<CODE>", "message": "<message>"}`: `error` as
 * before, `code` and `message` because Segment's and RudderStack's Python SDKs read
 * `payload['code']` and `payload['message']` (a missing key was shown to users as `KeyError('code')`).
 */

export const RejectedEventAnswer = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  messageId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
});

export const IngestSuccessAnswer = Type.Object({
  success: Type.Literal(true),
  rejected: Type.Optional(Type.Array(RejectedEventAnswer)),
});

export const IngestErrorAnswer = Type.Object({
  success: Type.Literal(false),
  error: Type.String(),
  /** One of ERROR_CODES (src/server/error-codes.ts). */
  code: Type.String(),
  message: Type.String(),
});

export type IngestSuccess = Static<typeof IngestSuccessAnswer>;
export type IngestError = Static<typeof IngestErrorAnswer>;

export const ingestResponseSchemas = {
  200: IngestSuccessAnswer,
  '4xx': IngestErrorAnswer,
  '5xx': IngestErrorAnswer,
};

/** An error the ingest answers on purpose: its message is safe to show the client. */
export class IngestRefusal extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'IngestRefusal';
    this.statusCode = statusOf(code);
  }
}

export function errorAnswer(code: ErrorCode, message: string): IngestError {
  return { success: false, error: message, code, message };
}

export interface ErrorAnswer {
  code: ErrorCode;
  message: string;
  headers: Record<string, string>;
}

/** Our refusals, and fastify's own errors (body parsing, media types) in our answer format. */
export function errorAnswerOf(error: FastifyError): ErrorAnswer {
  if (error instanceof IngestRefusal) return { code: error.code, message: error.message, headers: error.headers };
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        code: 'INGEST_BODY_TOO_LARGE',
        message: `The request body is over the limit of 500 KB (${MAX_REQUEST_BYTES} bytes)`,
        headers: { connection: 'close' },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
        message: 'Content-Type must be application/json (or text/plain holding JSON)',
        headers: {},
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'INGEST_CONTENT_LENGTH_MISMATCH', message: 'The body length does not match Content-Length', headers: {} };
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { code: 'INGEST_BAD_REQUEST', message: error.message, headers: {} };
  return { code: 'INGEST_INTERNAL_ERROR', message: 'Internal error while receiving the events', headers: {} };
}
