import {describe, expect, test} from 'vitest'

import {ExitCode, PrerequisiteError} from '../../src/lib/errors.js'
import {pullSecretBody} from '../../src/lib/registry/pull-secret.js'
import {RegistryCredential} from '../../src/lib/registry/registry-credential.js'

const login = new RegistryCredential('registry.example.com', 'docker-credential-pass', {
  kind: 'password',
  username: 'ci',
  password: 'test-secret-value',
})

describe('pullSecretBody', () => {
  test('a kubernetes.io/dockerconfigjson Secret holding only that registry, as the kubelet reads it', () => {
    const body = pullSecretBody({
      name: 'registry-login',
      namespace: 'todo-app-dev',
      credential: login,
      labels: {'app.kubernetes.io/managed-by': 'todo-deploy'},
    })
    expect(body).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: {
        name: 'registry-login',
        namespace: 'todo-app-dev',
        labels: {'app.kubernetes.io/managed-by': 'todo-deploy'},
      },
    })
    expect(Object.keys(body.data ?? {})).toEqual(['.dockerconfigjson'])
    const decoded = JSON.parse(
      Buffer.from(body.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8'),
    ) as unknown
    expect(decoded).toEqual({
      auths: {
        'registry.example.com': {
          username: 'ci',
          password: 'test-secret-value',
          auth: Buffer.from('ci:test-secret-value').toString('base64'),
        },
      },
    })
  })

  test('an identity token (which the kubelet cannot use) is refused with exit 3, naming the Secret key', () => {
    const token = new RegistryCredential('registry.example.com', 'docker-credential-desktop', {
      kind: 'identity-token',
      token: 'test-secret-value',
    })
    let error: unknown
    try {
      pullSecretBody({name: 'registry-login', namespace: 'dev', credential: token})
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(PrerequisiteError)
    const refused = error as PrerequisiteError
    expect(refused.exitCode).toBe(ExitCode.Prerequisite)
    expect(refused.where).toBe('registry.pullSecret')
    expect(`${refused.message} ${refused.fix}`).not.toContain('test-secret-value')
  })
})
