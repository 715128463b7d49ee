import {describe, expect, it} from 'vitest'

import {detectClusterKind} from '../../src/lib/cluster/cluster-kind.js'
import {BadInputError, ExitCode} from '../../src/lib/errors.js'

describe('detectClusterKind', () => {
  const auto = (context: string, minikubeProfile = 'minikube', registryConfigured = false) =>
    detectClusterKind({configuredKind: 'auto', context, minikubeProfile, registryConfigured})

  it('reads each local cluster tool from its context naming', () => {
    expect(auto('minikube')).toEqual({kind: 'minikube', name: 'minikube'})
    expect(auto('todo', 'todo')).toEqual({kind: 'minikube', name: 'todo'})
    expect(auto('kind-dev')).toEqual({kind: 'kind', name: 'dev'})
    expect(auto('kind-kind')).toEqual({kind: 'kind', name: 'kind'})
    expect(auto('k3d-todo-cluster')).toEqual({kind: 'k3d', name: 'todo-cluster'})
    expect(auto('docker-desktop')).toEqual({kind: 'docker-desktop', name: 'docker-desktop'})
    expect(auto('docker-for-desktop')).toEqual({kind: 'docker-desktop', name: 'docker-for-desktop'})
  })

  it('takes the configured profile over the prefixes (a minikube profile may be called kind-x)', () => {
    expect(auto('kind-x', 'kind-x')).toEqual({kind: 'minikube', name: 'kind-x'})
  })

  it('refuses an unknown context with exit 2, naming the context and cluster.kind', () => {
    let error: unknown
    try {
      auto('gke_project_europe-west1_prod')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(BadInputError)
    const badInput = error as BadInputError
    expect(badInput.exitCode).toBe(ExitCode.BadInput)
    expect(badInput.message).toContain('"gke_project_europe-west1_prod"')
    expect(badInput.where).toBe('cluster.kind in todo-deploy.yaml')
    expect(badInput.fix).toContain('cluster.kind')
    expect(badInput.fix).toContain('minikube, kind, k3d, docker-desktop')
  })

  it('reads an unknown context as a remote cluster when the command only reads (status, logs)', () => {
    expect(
      detectClusterKind({
        configuredKind: 'auto',
        context: 'gke_project_europe-west1_prod',
        minikubeProfile: 'minikube',
        registryConfigured: false,
        readOnly: true,
      }),
    ).toEqual({kind: 'remote', name: 'gke_project_europe-west1_prod'})
  })

  it('does not treat a bare "kind-" or another minikube profile as known', () => {
    expect(() => auto('kind-')).toThrow(BadInputError)
    expect(() => auto('other-profile', 'minikube')).toThrow(/other-profile/)
  })

  it('with registry.url set, a context of no local kind is a remote cluster; local contexts stay local', () => {
    expect(auto('gke_project_europe-west1_prod', 'minikube', true)).toEqual({
      kind: 'remote',
      name: 'gke_project_europe-west1_prod',
    })
    expect(auto('kind-dev', 'minikube', true)).toEqual({kind: 'kind', name: 'dev'})
    expect(auto('minikube', 'minikube', true)).toEqual({kind: 'minikube', name: 'minikube'})
    expect(auto('docker-desktop', 'minikube', true)).toEqual({kind: 'docker-desktop', name: 'docker-desktop'})
  })

  it('without a registry an unknown context says how to make it a remote cluster', () => {
    expect(() => auto('arn:aws:eks:eu-west-1:1:cluster/dev')).toThrow(
      expect.objectContaining({fix: expect.stringContaining('set registry.url')}),
    )
  })

  it('cluster.kind: remote is taken as given, named after the context', () => {
    expect(
      detectClusterKind({
        configuredKind: 'remote',
        context: 'kind-x',
        minikubeProfile: 'minikube',
        registryConfigured: true,
      }),
    ).toEqual({kind: 'remote', name: 'kind-x'})
  })

  it('uses the configured kind as given, deriving the cluster name', () => {
    expect(
      detectClusterKind({
        configuredKind: 'minikube',
        context: 'my-ctx',
        minikubeProfile: 'todo',
        registryConfigured: false,
      }),
    ).toEqual({kind: 'minikube', name: 'todo'})
    expect(
      detectClusterKind({
        configuredKind: 'kind',
        context: 'kind-dev',
        minikubeProfile: 'minikube',
        registryConfigured: false,
      }),
    ).toEqual({kind: 'kind', name: 'dev'})
    expect(
      detectClusterKind({
        configuredKind: 'k3d',
        context: 'lab',
        minikubeProfile: 'minikube',
        registryConfigured: false,
      }),
    ).toEqual({
      kind: 'k3d',
      name: 'lab',
    })
    expect(
      detectClusterKind({
        configuredKind: 'docker-desktop',
        context: 'desktop',
        minikubeProfile: 'minikube',
        registryConfigured: false,
      }),
    ).toEqual({
      kind: 'docker-desktop',
      name: 'desktop',
    })
  })
})
