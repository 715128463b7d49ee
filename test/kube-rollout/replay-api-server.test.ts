import {AppsV1Api, CoreV1Api} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {KubePodLogSource} from '../../src/lib/kube/rollout/pod-logs.js'
import {kubeConfigFor} from '../support/replay-api-server.js'
import {replay} from './replay-harness.js'

describe('ReplayApiServer through the real client-node', () => {
  it('lists the state at the scenario clock, filtered by label selector', async () => {
    const server = await replay('healthy-rollout', {startAt: 3000, until: 3000})
    const apps = kubeConfigFor(server).makeApiClient(AppsV1Api)
    const core = kubeConfigFor(server).makeApiClient(CoreV1Api)
    const namespace = server.namespace
    const deployments = await apps.listNamespacedDeployment({
      namespace,
      labelSelector: 'app.kubernetes.io/instance=fx',
    })
    expect(deployments.items.map((d) => d.metadata?.name)).toEqual(['healthy-rollout'])
    expect(deployments.metadata?.resourceVersion).toMatch(/^\d+$/)
    const others = await core.listNamespacedPod({namespace, labelSelector: 'app.kubernetes.io/instance!=fx'})
    expect(others.items).toEqual([])
    const pods = await core.listNamespacedPod({namespace, labelSelector: 'app in (healthy-rollout)'})
    expect(pods.items).toHaveLength(2)
    // At t=3000 the pods exist but are not running yet (Running at t≈4578).
    expect(pods.items.every((p) => p.status?.containerStatuses?.[0]?.state?.running === undefined)).toBe(true)
    const one = await apps.readNamespacedDeployment({name: 'healthy-rollout', namespace})
    expect(one.spec?.replicas).toBe(2)
  })

  it('answers pod logs with the recorded statuses: text, 400 Status, 204', async () => {
    const neverPull = await replay('image-never-pull', {startAt: 90_000})
    const logs = new KubePodLogSource(kubeConfigFor(neverPull).makeApiClient(CoreV1Api))
    const request = {namespace: neverPull.namespace, container: 'web', previous: false, lines: 20}
    expect(await logs.tail({...request, pod: 'image-never-pull-96f55f4b7-9t6bv'})).toEqual({
      source: 'current',
      lines: [],
      unavailable:
        'container "web" in pod "image-never-pull-96f55f4b7-9t6bv" is waiting to start: ErrImageNeverPull',
    })

    const unschedulable = await replay('unschedulable', {startAt: 90_000})
    const noContent = new KubePodLogSource(kubeConfigFor(unschedulable).makeApiClient(CoreV1Api))
    expect(
      await noContent.tail({
        ...request,
        namespace: unschedulable.namespace,
        pod: 'unschedulable-55cc9d8dcc-jnmhq',
      }),
    ).toEqual({source: 'current', lines: [], unavailable: 'no logs: the container has not started'})

    const crash = await replay('crash-loop', {startAt: 93_000})
    const text = new KubePodLogSource(kubeConfigFor(crash).makeApiClient(CoreV1Api))
    expect(
      await text.tail({
        ...request,
        namespace: crash.namespace,
        pod: 'crash-loop-6cdbc74d56-shwvb',
        previous: true,
        lines: 1,
      }),
    ).toEqual({
      source: 'previous',
      lines: ['crash-loop: fatal: required config missing, exiting with status 1'],
    })
  })
})
