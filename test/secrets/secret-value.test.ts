import {inspect} from 'node:util'

import {expect, test} from 'vitest'

import {SecretValue} from '../../src/lib/secrets/secret-value.js'

const SENTINEL = 'test-secret-value-1'

test('a SecretValue never shows its value when printed, serialised or interpolated', () => {
  const secret = new SecretValue('GEMINI_API_KEY', SENTINEL, 'environment')
  const renderings = [
    String(secret),
    `${secret}`,
    'key=' + secret,
    JSON.stringify(secret),
    JSON.stringify({values: [secret]}),
    inspect(secret),
    inspect({nested: {secret}}, {depth: 5, showHidden: true}),
  ]
  for (const rendering of renderings) expect(rendering).not.toContain(SENTINEL)
  expect(String(secret)).toBe('[redacted]')
  expect(JSON.stringify({secret})).toBe('{"secret":"[redacted]"}')
  expect(inspect(secret)).toBe('SecretValue(GEMINI_API_KEY: [redacted])')
})

test('reveal() is the one way to the value, for the Kubernetes Secret', () => {
  expect(new SecretValue('JWT_SECRET', SENTINEL, 'dotenv').reveal()).toBe(SENTINEL)
})
