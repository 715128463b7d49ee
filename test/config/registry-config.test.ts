import {inspect} from 'node:util'

import {describe, expect, test} from 'vitest'

import {checkConfigRules} from '../../src/lib/config/config-rules.js'
import {loadConfig} from '../../src/lib/config/load.js'
import {BadInputError} from '../../src/lib/errors.js'
import {tempProject} from './temp-project.js'

const SENTINEL = 'test-secret-value'

function load(yaml: string) {
  return loadConfig({cwd: tempProject({'todo-deploy.yaml': yaml})})
}

function refusal(yaml: string): BadInputError {
  try {
    load(yaml)
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError)
    return error as BadInputError
  }
  throw new Error('the configuration loaded, but an error was expected')
}

describe('registry and cluster.kind remote in todo-deploy.yaml', () => {
  test('by default there is no registry', () => {
    expect(loadConfig({cwd: tempProject()}).config.registry).toEqual({
      url: null,
      insecure: false,
      pullSecret: null,
    })
  })

  test('a registry with a namespace, a pull Secret, and a remote cluster', () => {
    const {config} = load(
      'cluster:\n  kind: remote\nregistry:\n  url: registry.example.com/team\n  pullSecret: registry-login\n',
    )
    expect(config.registry).toEqual({
      url: 'registry.example.com/team',
      insecure: false,
      pullSecret: 'registry-login',
    })
    expect(config.cluster.kind).toBe('remote')
  })

  test.each(['localhost:5000', '127.0.0.1:5000', 'k3d-registry.localhost:5000/team', '[::1]:5000'])(
    'plain HTTP is allowed for %s, a registry on this machine',
    (url) => {
      expect(load(`registry:\n  url: "${url}"\n  insecure: true\n`).config.registry.insecure).toBe(true)
    },
  )

  test('credentials in registry.url are refused at the key, and the value is shown nowhere', () => {
    const error = refusal(`registry:\n  url: "ci:${SENTINEL}@registry.example.com/team"\n`)
    expect(error.exitCode).toBe(2)
    expect(error.details).toEqual([
      'todo-deploy.yaml:2:8  registry.url: must not hold credentials (user:password@host): put them in the Docker config with `docker login <host>`',
    ])
    expect(
      [error.message, error.where, error.fix, ...error.details, inspect(error)].join('\n'),
    ).not.toContain(SENTINEL)
  })

  test.each([
    ['https://registry.example.com/team', /is written without a scheme/],
    ['registry.example.com/Team', /must be host\[:port\]\[\/path\]/],
    ['team/app', /must start with a registry host/],
    ['', /must not be empty/],
  ])('registry.url %j is refused at its value', (url, message) => {
    const error = refusal(`registry:\n  url: "${url}"\n`)
    expect(error.details).toHaveLength(1)
    expect(error.details[0]).toMatch(/^todo-deploy\.yaml:2:8 {2}registry\.url: /)
    expect(error.details[0]).toMatch(message)
  })

  test('plain HTTP to a registry on another machine is refused at registry.insecure', () => {
    const error = refusal('registry:\n  url: registry.example.com\n  insecure: true\n')
    expect(error.details).toEqual([
      'todo-deploy.yaml:3:13  registry.insecure: plain HTTP is allowed only for a registry on this machine (localhost, 127.0.0.1, *.localhost), not registry.example.com: it would send the credentials in the clear; serve the registry over HTTPS',
    ])
  })

  test('a pull Secret without a registry is refused at registry.pullSecret', () => {
    const error = refusal('registry:\n  pullSecret: registry-login\n')
    expect(error.details).toEqual([
      'todo-deploy.yaml:2:15  registry.pullSecret: needs registry.url: the pull Secret holds the credentials for that registry',
    ])
  })

  test('with registry.url set, an image repository that names a registry too is refused at that key', () => {
    const error = refusal(
      'registry:\n  url: registry.example.com/team\nservices:\n  backend:\n    image:\n      repository: ghcr.io/team/todo-backend\n',
    )
    expect(error.details).toEqual([
      'todo-deploy.yaml:6:19  services.backend.image.repository: names the registry ghcr.io, and registry.url is set too: give the bare image name (registry.url says where it is pushed)',
    ])
    // Without registry.url the repository may name its own registry, as before.
    expect(
      load('services:\n  backend:\n    image:\n      repository: ghcr.io/team/todo-backend\n').config.services
        .backend.image.repository,
    ).toBe('ghcr.io/team/todo-backend')
  })

  test('cluster.kind remote without a registry is refused at cluster.kind', () => {
    const error = refusal('cluster:\n  kind: remote\n')
    expect(error.details).toEqual([
      'todo-deploy.yaml:2:9  cluster.kind: remote needs registry.url: a remote cluster pulls the images from a registry, nothing is loaded into its nodes',
    ])
  })
})

describe('pull policy and rules with registry.url', () => {
  test('images default to pullPolicy IfNotPresent with a registry, Never without', () => {
    const withRegistry = load('registry:\n  url: localhost:5000\n  insecure: true\n').config
    expect(withRegistry.services.frontend.image.pullPolicy).toBe('IfNotPresent')
    expect(withRegistry.services.backend.image.pullPolicy).toBe('IfNotPresent')
    expect(loadConfig({cwd: tempProject()}).config.services.frontend.image.pullPolicy).toBe('Never')
  })

  test("with a registry the chart's values-dev.yaml (pullPolicy Never, for minikube) is not read by default", () => {
    expect(load('registry:\n  url: localhost:5000\n  insecure: true\n').config.chart.valuesFiles).toEqual([])
    expect(loadConfig({cwd: tempProject()}).config.chart.valuesFiles).toEqual(['values-dev.yaml'])
  })

  test('a pullPolicy written in the file wins over the registry default', () => {
    const {config} = load(
      'registry:\n  url: localhost:5000\n  insecure: true\nservices:\n  backend:\n    image:\n      pullPolicy: Always\n',
    )
    expect(config.services.backend.image.pullPolicy).toBe('Always')
    expect(config.services.frontend.image.pullPolicy).toBe('IfNotPresent')
  })

  test('with a registry, Never breaks k8s.pull-policy.registry at the key; without one, k8s.pull-policy.never holds', () => {
    const registry = load(
      'registry:\n  url: localhost:5000\n  insecure: true\nservices:\n  frontend:\n    image:\n      pullPolicy: Never\n',
    )
    const found = checkConfigRules(registry, 'remote').filter((v) => v.id.startsWith('k8s.pull-policy'))
    expect(found.map((v) => [v.id, v.severity, v.keyPath, v.where])).toEqual([
      [
        'k8s.pull-policy.registry',
        'error',
        'services.frontend.image.pullPolicy',
        expect.stringMatching(/todo-deploy\.yaml:7:\d+$/),
      ],
    ])
    const local = checkConfigRules(loadConfig({cwd: tempProject()}), 'minikube')
    expect(local.filter((v) => v.id.startsWith('k8s.pull-policy'))).toEqual([])
  })
})
