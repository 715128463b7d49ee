import {onTestFinished} from 'vitest'

import type {UpOptions} from '../../src/lib/lifecycle/up.js'
import {createTestProject, type TestProject} from './fake-connection.js'

/** The release and namespace of the built-in defaults (DATA-MODEL spec A). */
export const RELEASE = 'todo-chatbot'
export const NAMESPACE = 'todo-app-dev'
export const HOLDER = 'tester@laptop pid 4242'

/** `up` as a user runs it with no flags, without a renderer. */
export const UP_OPTIONS: UpOptions = {
  build: true,
  wait: true,
  timeoutMs: 300_000,
  rollbackOnFailure: true,
  dryRun: false,
  force: false,
  valuesFiles: [],
  set: [],
  holder: HOLDER,
  renderer: 'silent',
}

/** A temporary app project (real build contexts), removed when the test ends. */
export function tempProject(): TestProject {
  const created = createTestProject()
  onTestFinished(() => created.remove())
  return created
}
