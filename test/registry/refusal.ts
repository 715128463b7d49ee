import {inspect} from 'node:util'

import {expect} from 'vitest'

import {TodoDeployError} from '../../src/lib/errors.js'

export const SENTINEL = 'test-secret-value'

/**
 * The TodoDeployError `promise` rejects with, after checking that no part of it a user or a log could
 * see (message, where, fix, details, its JSON and inspect forms) holds the sentinel credential.
 */
export async function refusal(promise: Promise<unknown>): Promise<TodoDeployError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(TodoDeployError)
  const shown = error as TodoDeployError
  const visible = [
    String(shown),
    shown.message,
    shown.where,
    shown.fix,
    ...shown.details,
    JSON.stringify(shown),
    inspect(shown, {depth: 5}),
  ]
  expect(visible.join('\n')).not.toContain(SENTINEL)
  return shown
}
