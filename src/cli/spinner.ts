import ora from 'ora'

/**
 * A spinner on stderr for work outside a task list that can take over a second (reading status, the
 * history). Only on a terminal that reports its width (ora redraws in a loop at 0 columns), never in JSON mode.
 */
export async function withSpinner<T>(text: string, enabled: boolean, work: () => Promise<T>): Promise<T> {
  const spinner = terminalSpinner(enabled)
  spinner.start(text)
  try {
    return await work()
  } finally {
    spinner.stop()
  }
}

export interface TerminalSpinner {
  start(text: string): void
  stop(): void
}

/** A reusable spinner (say what runs now, stop before printing a result line); a no-op off a terminal. */
export function terminalSpinner(enabled: boolean): TerminalSpinner {
  const usable = enabled && Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0
  if (!usable) return {start: () => {}, stop: () => {}}
  const spinner = ora({stream: process.stderr, discardStdin: false})
  return {
    start: (text) => {
      spinner.text = text
      if (!spinner.isSpinning) spinner.start()
    },
    stop: () => {
      spinner.stop()
    },
  }
}
