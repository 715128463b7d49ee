import {afterEach, beforeEach, vi} from 'vitest'

import {useDependencies} from '../../src/cli/dependencies.js'
import type {PreflightProbes} from '../../src/lib/doctor/preflight.js'

export const SPEC_A_SECRETS = ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY', 'BETTER_AUTH_SECRET'] as const

/**
 * Runs each test of the file with `probes` injected into the commands and the environment reset: no
 * secret of the developer's own shell can change what doctor reports.
 */
export function withPreflight(probes: () => PreflightProbes): void {
  let restore: () => void = () => {}
  beforeEach(() => {
    for (const name of [...SPEC_A_SECRETS, 'OPENAI_API_KEY']) vi.stubEnv(name, undefined)
    vi.stubEnv('NO_COLOR', '1')
    restore = useDependencies({preflight: probes})
  })
  afterEach(() => {
    restore()
    vi.unstubAllEnvs()
  })
}

/** Sets every spec A secret in the environment to a fake value. */
export function setAllSecrets(): void {
  for (const name of SPEC_A_SECRETS) vi.stubEnv(name, 'test-secret-value')
}
