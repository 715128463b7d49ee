/** What the keys of `dev` do. */
export interface DevKeyHandlers {
  /** `r`: rebuild now. */
  rebuild(): void
  /** `s`: print the status. */
  status(): void
  /** `q`, and Ctrl-C (raw mode turns it into a key instead of SIGINT): stop. */
  quit(): void
}

/** The part of a TTY stream the keys need (process.stdin in the CLI). */
export interface KeyInput {
  isTTY?: boolean
  isRaw?: boolean
  setRawMode?(mode: boolean): unknown
  setEncoding(encoding: BufferEncoding): unknown
  resume(): unknown
  pause(): unknown
  on(event: 'data', listener: (chunk: string | Buffer) => void): unknown
  off(event: 'data', listener: (chunk: string | Buffer) => void): unknown
}

const CTRL_C = '\u0003'

/**
 * Reads single keys from a terminal in raw mode; without a terminal nothing is read (stdin may be a
 * pipe the user meant for something else). Returns the function that restores the terminal, which is
 * also run when the process exits, so a crash never leaves the terminal raw.
 */
export function listenForKeys(input: KeyInput, handlers: DevKeyHandlers): () => void {
  if (input.isTTY !== true || input.setRawMode === undefined) return () => {}
  const wasRaw = input.isRaw === true
  const onData = (chunk: string | Buffer): void => {
    for (const key of chunk.toString()) {
      if (key === 'r' || key === 'R') handlers.rebuild()
      else if (key === 's' || key === 'S') handlers.status()
      else if (key === 'q' || key === 'Q' || key === CTRL_C) handlers.quit()
    }
  }
  input.setRawMode(true)
  input.setEncoding('utf8')
  input.on('data', onData)
  input.resume()
  let restored = false
  const restore = (): void => {
    if (restored) return
    restored = true
    process.off('exit', restore)
    input.off('data', onData)
    input.setRawMode?.(wasRaw)
    input.pause()
  }
  process.on('exit', restore)
  return restore
}
