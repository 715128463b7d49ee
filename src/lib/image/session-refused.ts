/**
 * A BuildKit session the engine refused, kept apart from the session itself: the session's module
 * (gRPC) loads only with BuildKit, while the fallback to the classic builder must recognise the error.
 */

/** The name of the error a refused BuildKit session raises. */
export const SESSION_REFUSED = 'SessionRefusedError'

/** Whether the engine refused (or never answered) a BuildKit session: the classic builder will do. */
export function isSessionRefused(error: unknown): error is Error {
  return error instanceof Error && error.name === SESSION_REFUSED
}

/** A session the engine refused (an engine without BuildKit sessions answers 4xx). */
export class SessionRefusedError extends Error {
  override readonly name = SESSION_REFUSED
}
