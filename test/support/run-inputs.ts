import type {UpOptions} from '../../src/lib/lifecycle/up.js'
import {SecretValue} from '../../src/lib/secrets/secret-value.js'

export const TEST_SECRET_NAMES = [
  'DATABASE_URL',
  'JWT_SECRET',
  'GEMINI_API_KEY',
  'BETTER_AUTH_SECRET',
] as const

/** The spec A secrets with obviously fake values `test-secret-value-<NAME>`. */
export function testSecrets(): SecretValue[] {
  return TEST_SECRET_NAMES.map((name) => new SecretValue(name, `test-secret-value-${name}`, 'environment'))
}

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
