import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {scanForSecrets} from '../../src/lib/rules/index.js'
import {projectRoot} from '../support/helm-template.js'

const SECRET_KEYS = ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY', 'BETTER_AUTH_SECRET', 'OPENAI_API_KEY']
const scan = (text: string) => scanForSecrets(text, {file: 'values-local.yaml', secretKeyNames: SECRET_KEYS})
const where = (text: string) => scan(text).map((v) => `${v.object} ${v.field}`)

// Shapes assembled at run time so this file itself never holds a credential-shaped literal.
const FAKE_GOOGLE_KEY = 'AIza' + 'x'.repeat(35)
const FAKE_OPENAI_KEY = 'sk-' + 'proj-' + 'y'.repeat(24)
const FAKE_NEON_PASSWORD = 'npg_' + 'z'.repeat(12)

describe('scanForSecrets (secrets.plain-text)', () => {
  it('reports a values file holding a database URL with a password, at file:line, without the value', () => {
    const text = [
      'backend:',
      '  env:',
      '    DATABASE_URL: postgres://todo:test-secret-value@ep-test.neon.tech/todo?sslmode=require',
      '    LOG_LEVEL: info',
    ].join('\n')
    const findings = scan(text)
    expect(findings.map((f) => `${f.id}:${f.severity} ${f.object}`)).toEqual([
      'secrets.plain-text:error values-local.yaml:3',
    ])
    expect(findings[0]?.message).toContain('connection string')
    expect(JSON.stringify(findings)).not.toContain('test-secret-value')
  })

  it('reports a model secret name with a literal value in YAML, .env and JSON forms', () => {
    expect(where('JWT_SECRET: test-secret-value')).toEqual(['values-local.yaml:1 JWT_SECRET'])
    expect(where('x: 1\nexport BETTER_AUTH_SECRET=test-secret-value')).toEqual([
      'values-local.yaml:2 BETTER_AUTH_SECRET',
    ])
    expect(where('{\n  "GEMINI_API_KEY": "test-secret-value",\n}')).toEqual([
      'values-local.yaml:2 GEMINI_API_KEY',
    ])
    expect(where('  - JWT_SECRET: test-secret-value')).toEqual(['values-local.yaml:1 JWT_SECRET'])
  })

  it('reports secret-like names outside the model too (DB_PASSWORD, STRIPE_TOKEN)', () => {
    expect(where('DB_PASSWORD=test-secret-value\nSTRIPE_TOKEN: test-secret-value')).toEqual([
      'values-local.yaml:1 DB_PASSWORD',
      'values-local.yaml:2 STRIPE_TOKEN',
    ])
  })

  it('reports a Kubernetes env entry whose value is literal', () => {
    const text = [
      'env:',
      '  - name: JWT_SECRET',
      '    value: test-secret-value',
      '  - name: NODE_ENV',
      '    value: production',
    ].join('\n')
    expect(where(text)).toEqual(['values-local.yaml:3 JWT_SECRET'])
  })

  it.each([
    [FAKE_GOOGLE_KEY, 'Google'],
    [FAKE_OPENAI_KEY, 'OpenAI'],
    [FAKE_NEON_PASSWORD, 'Neon'],
  ])('reports an API-key shape wherever it is (%#: %s)', (key, what) => {
    const findings = scan(`# a note\nllm:\n  key: ${key}\n`)
    expect(findings.map((f) => f.object)).toEqual(['values-local.yaml:3'])
    expect(findings[0]?.message).toContain(what)
    expect(JSON.stringify(findings)).not.toContain(key)
  })

  it('accepts empty values, references, templates and names that only mention secrets', () => {
    const text = [
      'secrets:',
      '  existingSecret: todo-app-secrets',
      '  checksum: ""',
      'JWT_SECRET: ""',
      'GEMINI_API_KEY:',
      'DATABASE_URL: ${DATABASE_URL}',
      'BETTER_AUTH_SECRET: <set in .env>',
      'OPENAI_API_KEY: {{ .Values.key }}',
      'secretKeys: [DATABASE_URL, JWT_SECRET]',
      '  - name: DATABASE_URL',
      '    valueFrom:',
      '      secretKeyRef: {name: todo-app-secrets, key: DATABASE_URL}',
      'url: postgres://${DB_USER}:' + '${DB_PASSWORD}@host/db',
      'docs: https://example.com/path',
      '# JWT_SECRET: commented-example',
    ].join('\n')
    expect(scan(text)).toEqual([])
  })
})

/** Every file under manifests/ and docker/ (what the package ships and users copy). */
function shippedFiles(): string[] {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry)
      if (statSync(full).isDirectory()) walk(full)
      else files.push(full)
    }
  }
  walk(path.join(projectRoot, 'manifests'))
  walk(path.join(projectRoot, 'docker'))
  return files
}

describe('the repository', () => {
  it('holds no credential in any file under manifests/ or docker/', () => {
    const files = shippedFiles()
    expect(files.length).toBeGreaterThan(10)
    const findings = files.flatMap((file) =>
      scanForSecrets(readFileSync(file, 'utf8'), {
        file: path.relative(projectRoot, file),
        secretKeyNames: SECRET_KEYS,
      }),
    )
    expect(findings.map((f) => `${f.object}: ${f.message}`)).toEqual([])
  })
})
