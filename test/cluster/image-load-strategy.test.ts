import {describe, expect, it} from 'vitest'

import {chooseImageLoadStrategy} from '../../src/lib/cluster/image-load-strategy.js'
import {BadInputError, ExitCode} from '../../src/lib/errors.js'

const docker = {containerRuntime: 'docker', nodeCount: 1}
const containerd = {containerRuntime: 'containerd', nodeCount: 1}

describe('chooseImageLoadStrategy', () => {
  it("auto builds into minikube's Docker daemon when the node runs docker, and loads otherwise", () => {
    expect(chooseImageLoadStrategy({configured: 'auto', clusterKind: 'minikube', runtime: docker})).toBe(
      'docker-env',
    )
    expect(chooseImageLoadStrategy({configured: 'auto', clusterKind: 'minikube', runtime: containerd})).toBe(
      'load',
    )
    expect(
      chooseImageLoadStrategy({
        configured: 'auto',
        clusterKind: 'minikube',
        runtime: {containerRuntime: 'crio', nodeCount: 1},
      }),
    ).toBe('load')
    expect(
      chooseImageLoadStrategy({
        configured: 'auto',
        clusterKind: 'minikube',
        runtime: {containerRuntime: 'docker', nodeCount: 2},
      }),
    ).toBe('load')
    expect(chooseImageLoadStrategy({configured: 'auto', clusterKind: 'kind', runtime: containerd})).toBe(
      'load',
    )
    expect(chooseImageLoadStrategy({configured: 'auto', clusterKind: 'k3d', runtime: containerd})).toBe(
      'load',
    )
    expect(
      chooseImageLoadStrategy({configured: 'auto', clusterKind: 'docker-desktop', runtime: docker}),
    ).toBe('none')
  })

  it('keeps an explicit load or none', () => {
    expect(chooseImageLoadStrategy({configured: 'load', clusterKind: 'minikube', runtime: docker})).toBe(
      'load',
    )
    expect(chooseImageLoadStrategy({configured: 'none', clusterKind: 'kind', runtime: containerd})).toBe(
      'none',
    )
    expect(
      chooseImageLoadStrategy({configured: 'docker-env', clusterKind: 'minikube', runtime: docker}),
    ).toBe('docker-env')
  })

  it('refuses docker-env on a containerd node, naming cluster.imageLoad and why', () => {
    let error: unknown
    try {
      chooseImageLoadStrategy({configured: 'docker-env', clusterKind: 'minikube', runtime: containerd})
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(BadInputError)
    const badInput = error as BadInputError
    expect(badInput.exitCode).toBe(ExitCode.BadInput)
    expect(badInput.where).toBe('cluster.imageLoad in todo-deploy.yaml')
    expect(badInput.message).toContain('"containerd"')
    expect(badInput.message).toContain('skaffold #5143')
    expect(badInput.fix).toContain('--container-runtime=docker')
  })

  it('refuses docker-env outside minikube and on multi-node minikube', () => {
    expect(() =>
      chooseImageLoadStrategy({configured: 'docker-env', clusterKind: 'kind', runtime: containerd}),
    ).toThrow(/minikube feature/)
    expect(() =>
      chooseImageLoadStrategy({
        configured: 'docker-env',
        clusterKind: 'minikube',
        runtime: {containerRuntime: 'docker', nodeCount: 3},
      }),
    ).toThrow(/3 nodes/)
  })
})
