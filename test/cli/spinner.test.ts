import {afterEach, describe, expect, it, vi} from 'vitest'

import {terminalSpinner} from '../../src/cli/spinner.js'

const stderr = process.stderr as unknown as {isTTY?: boolean; columns?: number} & Record<string, unknown>
const original = {isTTY: stderr.isTTY, columns: stderr.columns}
/** What a TTY stream has and a pipe lacks; ora moves the cursor with these. */
const TTY_METHODS = ['cursorTo', 'moveCursor', 'clearLine', 'clearScreenDown']

/** Makes stderr look like a terminal (or not) 80 columns wide and records what is written to it. */
function fakeTerminal(isTTY = true): () => string {
  stderr.isTTY = isTTY
  stderr.columns = 80
  for (const method of TTY_METHODS) stderr[method] = () => true
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  return () => write.mock.calls.map(([chunk]) => String(chunk)).join('')
}

afterEach(() => {
  vi.restoreAllMocks()
  stderr.isTTY = original.isTTY
  stderr.columns = original.columns
  for (const method of TTY_METHODS) delete stderr[method]
})

describe('terminal spinner', () => {
  it('on a terminal shows the current text (once ora has loaded) and stops on stop()', async () => {
    const written = fakeTerminal()
    const spinner = terminalSpinner(true)
    spinner.start('reading release todo-chatbot')
    await vi.waitFor(() => expect(written()).toContain('reading release todo-chatbot'))
    spinner.stop()
    const afterStop = written().length
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(written().length).toBe(afterStop)
  })

  it('stopped before ora has loaded draws nothing', async () => {
    const written = fakeTerminal()
    const spinner = terminalSpinner(true)
    spinner.start('checking helm')
    spinner.stop()
    await import('ora')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(written()).toBe('')
  })

  it('off a terminal, or disabled (JSON mode), writes nothing', async () => {
    const written = fakeTerminal(false)
    terminalSpinner(true).start('reading release')
    terminalSpinner(false).start('reading release')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(written()).toBe('')
  })
})
