// Helpers shared by the route files.
import type { FastifyInstance } from 'fastify';
import { ApiError, type ErrorCode } from '../errors';
import type { Room } from '../rooms/room';

/** The open room of callId, or 404 with `code`. */
export function roomOr404(app: FastifyInstance, callId: string, code: ErrorCode = 'ROOM_NOT_FOUND'): Room {
  const room = app.rooms.get(callId);
  if (!room) throw new ApiError(code, code === 'ROOM_NOT_FOUND' ? `no room for call ${callId}` : `not found in call ${callId}`);
  return room;
}
