import {describe, expect, test} from 'vitest'

import {createClusterTarget} from '../../src/lib/cluster/create-cluster-target.js'
import {RemoteCluster} from '../../src/lib/cluster/remote-cluster.js'
import {ExitCode} from '../../src/lib/errors.js'
import type {ProcessRunner} from '../../src/lib/process/runner.js'

/** A remote cluster runs no program of ours: any call is a failure. */
const noPrograms: ProcessRunner = {
  run: (file) => Promise.reject(new Error(`${file} was run for a remote cluster`)),
}

describe('RemoteCluster', () => {
  const cluster = createClusterTarget({kind: 'remote', name: 'gke_project_dev'}, noPrograms)

  test('is what a remote context gets, named after the context, and needs no tool to be "running"', async () => {
    expect(cluster).toBeInstanceOf(RemoteCluster)
    expect(cluster.kind).toBe('remote')
    expect(cluster.describe()).toBe('remote cluster (context "gke_project_dev")')
    await expect(cluster.ensureRunning()).resolves.toBeUndefined()
    await expect(cluster.builderEnv()).resolves.toBeNull()
  })

  test('nothing is loaded into or removed from its nodes: images come from the registry', async () => {
    await expect(cluster.imagePresent('todo-frontend:c-1')).resolves.toBe(false)
    await expect(cluster.removeImage('todo-frontend:c-1')).resolves.toBe(false)
    await expect(cluster.loadImage('todo-frontend:c-1')).rejects.toMatchObject({
      exitCode: ExitCode.Unexpected,
      message:
        'todo-frontend:c-1 cannot be loaded into a remote cluster: its nodes pull images from registry.url',
    })
  })

  test('its app address is not known yet: exit 3 with a port-forward to use meanwhile', async () => {
    await expect(
      cluster.frontendUrl({service: 'todo-frontend-service', namespace: 'dev'}),
    ).rejects.toMatchObject({
      exitCode: ExitCode.Prerequisite,
      fix: expect.stringContaining('kubectl port-forward -n dev service/todo-frontend-service'),
    })
  })
})
