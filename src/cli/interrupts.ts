/**
 * Ctrl-C and SIGTERM abort the running operation: the lifecycle stops its child processes, releases
 * the lock, records the interrupted phase and exits 130. A second Ctrl-C exits at once.
 */
export function abortOnSignals(onAbort?: () => void): {signal: AbortSignal; dispose: () => void} {
  const controller = new AbortController()
  let count = 0
  const handler = (signal: NodeJS.Signals): void => {
    count++
    if (count > 1) process.exit(130)
    process.stderr.write(
      `\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping (press Ctrl-C again to quit at once)\n`,
    )
    controller.abort(new Error(signal))
    onAbort?.()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}
