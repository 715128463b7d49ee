import type {V1Deployment, V1Pod} from '@kubernetes/client-node'
import {afterEach, describe, expect, it} from 'vitest'

import {InterruptedError} from '../../src/lib/errors.js'
import {DEFAULT_RETRY} from '../../src/lib/kube/rollout/resource-mirror.js'
import {WatchFeed, watchable} from '../../src/lib/kube/watch-feed.js'
import {connectionFor, ReplayApiServer} from '../support/replay-api-server.js'

const SELECTOR = 'app.kubernetes.io/instance=fx'
const servers: ReplayApiServer[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

/** A feed of the healthy rollout's deployments and pods, the recording stopped at t=3000 (pods not running yet). */
async function feedAt3000(): Promise<{
  server: ReplayApiServer
  feed: WatchFeed<{deployments: V1Deployment; pods: V1Pod}>
}> {
  const server = await ReplayApiServer.start('healthy-rollout', {startAt: 3000, until: 3000})
  servers.push(server)
  const kube = connectionFor(server)
  const feed = new WatchFeed(
    kube,
    server.namespace,
    {
      deployments: watchable.deployments(kube, server.namespace, SELECTOR),
      pods: watchable.pods(kube, server.namespace, SELECTOR),
    },
    DEFAULT_RETRY,
  )
  return {server, feed}
}

const watchRequests = (server: ReplayApiServer): number =>
  server.requests.filter((r) => r.query.watch === 'true').length

describe('WatchFeed: the feed emits, the caller decides', () => {
  it('decides on a complete picture only, then concludes with the objects it decided on', async () => {
    const {feed} = await feedAt3000()
    const pictures: string[] = []
    const result = await feed.follow({
      decide: (objects) => {
        pictures.push(`${objects.deployments.length} deployments, ${objects.pods.length} pods`)
        return objects.pods.length === 2 ? 'both pods exist' : undefined
      },
      conclude: (verdict, objects) =>
        `${verdict}: ${objects.pods
          .map((p) => p.metadata?.name)
          .sort()
          .join(', ')}`,
      interrupted: 'interrupted',
    })
    expect(pictures[0]).toBe('1 deployments, 2 pods') // never a half-listed picture
    expect(result).toBe('both pods exist: healthy-rollout-5d8ffc89b7-g5tfb, healthy-rollout-5d8ffc89b7-ztfmf')
  })

  it('at the deadline, concludes the deadline verdict on what the mirrors hold', async () => {
    const {feed} = await feedAt3000()
    const result = await feed.follow({
      decide: () => undefined,
      deadline: {ms: 300, verdict: (objects) => `stuck with ${objects.pods.length} pods`},
      conclude: (verdict) => verdict,
      interrupted: 'interrupted',
    })
    expect(result).toBe('stuck with 2 pods')
  })

  it('an abort while concluding rejects at once with InterruptedError, without waiting for the conclusion', async () => {
    const {server, feed} = await feedAt3000()
    const controller = new AbortController()
    const following = feed.follow({
      decide: () => 'decided',
      conclude: async () => {
        setTimeout(() => controller.abort(), 20)
        return new Promise<string>(() => {}) // a conclusion that never comes
      },
      signal: controller.signal,
      interrupted: 'interrupted while concluding',
    })
    const error = await following.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).message).toBe('interrupted while concluding')
    // The mirror whose list completed the picture stopped before opening its watch; the other opened at most one.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(watchRequests(server)).toBeLessThanOrEqual(1)
  })

  it("a decision that throws ends the feed with the caller's error", async () => {
    const {feed} = await feedAt3000()
    const following = feed.follow({
      decide: () => {
        throw new Error('the caller could not judge')
      },
      conclude: () => 'never',
      interrupted: 'interrupted',
    })
    await expect(following).rejects.toThrow('the caller could not judge')
  })
})
