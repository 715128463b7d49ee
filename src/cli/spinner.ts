import type {Ora} from 'ora'

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

/**
 * A reusable spinner (say what runs now, stop before printing a result line); a no-op off a terminal.
 * ora loads only on a terminal, in the background: the spinner appears once it is loaded, if still wanted.
 */
export function terminalSpinner(enabled: boolean): TerminalSpinner {
  const usable = enabled && Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0
  if (!usable) return {start: () => {}, stop: () => {}}
  let spinner: Ora | undefined
  let wanted: string | undefined
  const show = (): void => {
    if (!spinner || wanted === undefined) return
    spinner.text = wanted
    if (!spinner.isSpinning) spinner.start()
  }
  import('ora')
    .then(({default: ora}) => {
      spinner = ora({stream: process.stderr, discardStdin: false})
      show()
    })
    // A spinner is decoration: one that cannot draw must not end the command.
    .catch(() => {})
  return {
    start: (text) => {
      wanted = text
      show()
    },
    stop: () => {
      wanted = undefined
      spinner?.stop()
    },
  }
}
