/** The part of process.stdout this needs. */
export interface OutputStream {
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown
  off(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown
}

/**
 * Output whose reader went away (`todo-deploy logs -f | head -3`): `stop` is called once, so the
 * command ends quietly with exit 0 as kubectl and grep do on EPIPE, instead of dying on an unhandled
 * 'error' event with a stack trace. Node ignores SIGPIPE, so the closed pipe arrives as EPIPE on the
 * stream. Returns the function that lets go of the stream; once closed, the stream stays guarded (every
 * later write fails too, and must not crash the process on its way out).
 */
export function onOutputClosed(stream: OutputStream, stop: () => void): () => void {
  let closed = false
  const listener = (error: NodeJS.ErrnoException): void => {
    if (closed) return
    if (error.code !== 'EPIPE') throw error
    closed = true
    stop()
  }
  stream.on('error', listener)
  return () => {
    if (!closed) stream.off('error', listener)
  }
}
