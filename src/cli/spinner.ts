import ora from 'ora'

/**
 * A spinner on stderr for work outside a task list that can take over a second (reading status, the
 * history). Only on a terminal that reports its width (ora redraws in a loop at 0 columns), never in JSON mode.
 */
export async function withSpinner<T>(text: string, enabled: boolean, work: () => Promise<T>): Promise<T> {
  const usable = enabled && Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0
  if (!usable) return work()
  const spinner = ora({text, stream: process.stderr, discardStdin: false}).start()
  try {
    return await work()
  } finally {
    spinner.stop()
  }
}
