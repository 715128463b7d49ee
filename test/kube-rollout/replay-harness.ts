import {afterEach} from 'vitest'
import {
  RolloutTracker,
  type RolloutProgress,
  type TrackRequest,
} from '../../src/lib/kube/rollout/rollout-tracker.js'
import {
  ReplayApiServer,
  connectionFor,
  type ReplayOptions,
  type ReplayScenario,
} from '../support/replay-api-server.js'

const servers: ReplayApiServer[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

/** Starts a replay of a recorded scenario, closed after the test. */
export async function replay(
  scenario: ReplayScenario | string,
  options: ReplayOptions = {},
): Promise<ReplayApiServer> {
  const server = await ReplayApiServer.start(scenario, options)
  servers.push(server)
  return server
}

/** Tracks the scenario's release (the recordings label everything app.kubernetes.io/instance=fx). */
export async function trackReplay(
  server: ReplayApiServer,
  request: Partial<TrackRequest> = {},
): Promise<{outcome: Awaited<ReturnType<RolloutTracker['track']>>; progress: RolloutProgress[]}> {
  const progress: RolloutProgress[] = []
  const tracker = new RolloutTracker(connectionFor(server), {
    retry: {initialDelayMs: 20, maxDelayMs: 100},
    now: () => new Date('2026-11-21T21:00:00Z'),
  })
  const outcome = await tracker.track({
    namespace: server.namespace,
    labelSelector: 'app.kubernetes.io/instance=fx',
    timeoutMs: 10_000,
    ...request,
    onProgress: (p) => {
      progress.push(p)
      request.onProgress?.(p)
    },
  })
  return {outcome, progress}
}
