import {afterEach, beforeEach, onTestFinished, vi} from 'vitest'

import {useDependencies} from '../../src/cli/dependencies.js'
import {
  createTestProject,
  FakeCluster,
  TEST_SECRET_NAMES,
  type TestProject,
  type TestProjectOptions,
} from './fake-connection.js'

/** The release and namespace of the built-in defaults (spec A). */
export const RELEASE = 'todo-chatbot'
export const NAMESPACE = 'todo-app-dev'
export {HOLDER} from './fake-connection.js'

export {UP_OPTIONS} from './fake-connection.js'

/** A temporary app project (real build contexts), removed when the test ends. */
export function tempProject(options: TestProjectOptions = {}): TestProject {
  const created = createTestProject(options)
  onTestFinished(() => created.remove())
  return created
}

/**
 * For command tests: before each test a fresh FakeCluster is handed to `onCreate` and injected as the
 * commands' connection, colour is off and every secret is set to `test-secret-value-<NAME>`; after it,
 * the real adapters and the environment come back.
 */
export function useFakeCluster(onCreate: (fake: FakeCluster) => void): void {
  let restore: () => void = () => {}
  beforeEach(() => {
    const fake = new FakeCluster()
    onCreate(fake)
    restore = useDependencies({connect: () => fake.connect()})
    vi.stubEnv('NO_COLOR', '1')
    for (const name of TEST_SECRET_NAMES) vi.stubEnv(name, `test-secret-value-${name}`)
  })
  afterEach(() => {
    restore()
    vi.unstubAllEnvs()
  })
}

/**
 * Resolves once the operation record shows phase `id` running: a Ctrl-C aimed at a phase whose slow
 * call starts earlier (the rollout watch starts with helm, in the deploy phase) waits for this.
 */
export async function phaseRunning(fake: FakeCluster, id: string): Promise<void> {
  const running = async (): Promise<boolean> =>
    (await fake.state.read(NAMESPACE, RELEASE))?.operation.phases.find((entry) => entry.phase === id)
      ?.state === 'running'
  while (!(await running())) await new Promise((resolve) => setTimeout(resolve, 5))
}
