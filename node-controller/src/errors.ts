// The API's error shape: every error answers {error: CODE, message}.

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'ROOM_NOT_FOUND'
  | 'TRANSPORT_NOT_FOUND'
  | 'PRODUCER_NOT_FOUND'
  | 'CONSUMER_NOT_FOUND'
  | 'DATA_PRODUCER_NOT_FOUND'
  | 'DATA_CONSUMER_NOT_FOUND'
  | 'UNSUPPORTED_RTP_PARAMETERS'
  | 'UNSUPPORTED_SCTP_PARAMETERS'
  | 'CANNOT_CONSUME'
  | 'NOT_FOUND'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

const STATUS: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ROOM_NOT_FOUND: 404,
  TRANSPORT_NOT_FOUND: 404,
  PRODUCER_NOT_FOUND: 404,
  CONSUMER_NOT_FOUND: 404,
  DATA_PRODUCER_NOT_FOUND: 404,
  DATA_CONSUMER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  UNSUPPORTED_RTP_PARAMETERS: 422,
  UNSUPPORTED_SCTP_PARAMETERS: 422,
  CANNOT_CONSUME: 422,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** status: only for an answer relayed from another node as it was. */
  constructor(code: ErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = status ?? STATUS[code];
  }
}

export const errorBodySchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    /** 5xx only: the id of the request in the controller's log. */
    requestId: { type: 'string' },
  },
} as const;
