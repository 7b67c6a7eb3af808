// JSON schemas shared by the routes (request validation + OpenAPI).

export const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const callId = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:@-]+$' } as const;
/** Passed through to mediasoup, which validates the details (422 on failure). */
const looseObject = { type: 'object', additionalProperties: true } as const;

export const rtpParameters = { ...looseObject, required: ['codecs'], properties: { codecs: { type: 'array', minItems: 1 } } } as const;
export const rtpCapabilities = { ...looseObject, required: ['codecs'], properties: { codecs: { type: 'array' } } } as const;
export const dtlsParameters = {
  type: 'object',
  required: ['fingerprints'],
  properties: {
    role: { type: 'string', enum: ['auto', 'client', 'server'] },
    fingerprints: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['algorithm', 'value'],
        properties: { algorithm: { type: 'string' }, value: { type: 'string' } },
      },
    },
  },
} as const;
export const sctpCapabilities = {
  type: 'object',
  required: ['numStreams'],
  properties: {
    numStreams: {
      type: 'object',
      required: ['OS', 'MIS'],
      properties: { OS: { type: 'integer', minimum: 1, maximum: 65535 }, MIS: { type: 'integer', minimum: 1, maximum: 65535 } },
    },
  },
} as const;

export const errorRef = { $ref: 'Error#' } as const;
/** Any JSON value (serialized as is). */
export const anyJson = {} as const;

export const callIdQuery = {
  type: 'object', required: ['callId'], properties: { callId, token: { type: 'string' } },
} as const;
export const callIdParams = { type: 'object', required: ['callId'], properties: { callId } } as const;
export const idParams = { type: 'object', required: ['id'], properties: { id } } as const;

/** Standard error responses for documentation. */
export function errors(...codes: number[]): Record<number, typeof errorRef> {
  const out: Record<number, typeof errorRef> = {};
  for (const c of [400, 401, 403, ...codes]) out[c] = errorRef;
  return out;
}

export const bearer = [{ bearer: [] }];

/** mediasoup's SctpStreamParameters (mediasoup-client's `producedata`): streamId 0 – 65534. */
export const sctpStreamParameters = {
  type: 'object',
  required: ['streamId'],
  additionalProperties: false,
  properties: {
    streamId: { type: 'integer', minimum: 0, maximum: 65534 },
    ordered: { type: 'boolean' },
    maxPacketLifeTime: { type: 'integer', minimum: 0, maximum: 65535 },
    maxRetransmits: { type: 'integer', minimum: 0, maximum: 65535 },
  },
} as const;
/** A data channel's label or protocol (RFC 8832 allows 65535 bytes; a chat needs far less). */
export const dataLabel = { type: 'string', maxLength: 1024 } as const;
