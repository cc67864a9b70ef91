import Type, { type Static } from 'typebox';

/**
 * The answers of the ingest routes (DESIGN.md "Contracts"): 200 `{"success": true}` once stored,
 * with the refused events listed; every error is `{"success": false, "error": "<message>"}`.
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
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'IngestRefusal';
  }
}
