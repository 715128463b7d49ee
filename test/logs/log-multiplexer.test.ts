import {afterEach, describe, expect, test} from 'vitest'

import {KubeWorkloadSource} from '../../src/lib/kube/workload-source.js'
import {KubeContainerLogSource} from '../../src/lib/logs/kube-log-source.js'
import {
  LogMultiplexer,
  type LogEvent,
  type LogLineEvent,
  type LogMultiplexerOptions,
  type LogNoticeEvent,
} from '../../src/lib/logs/log-multiplexer.js'
import {connectionFor, ReplayApiServer, type ReplayOptions} from '../support/replay-api-server.js'

/** The recordings label everything app.kubernetes.io/instance=fx and app=<scenario>. */
const SELECTOR = 'app.kubernetes.io/instance=fx'
const REOPEN = {attempts: 3, initialDelayMs: 20, maxDelayMs: 100}

const servers: ReplayApiServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

/** Each container instance writes two lines naming itself as soon as it appears. */
const instanceLines = (pod: string, container: string, instance: number): string[] => [
  `${pod}/${container} #${instance} starting`,
  `${pod}/${container} #${instance} ready`,
]

async function replay(scenario: string, options: ReplayOptions = {}): Promise<ReplayApiServer> {
  const server = await ReplayApiServer.start(scenario, {liveLogs: {lines: instanceLines}, ...options})
  servers.push(server)
  return server
}

function multiplexer(
  server: ReplayApiServer,
  deployment: string,
  options: Partial<LogMultiplexerOptions> = {},
) {
  const kube = connectionFor(server)
  return new LogMultiplexer(
    {
      workloads: new KubeWorkloadSource(kube, {attempts: 3, initialDelayMs: 20, maxDelayMs: 50}),
      logStreams: new KubeContainerLogSource(kube),
    },
    {
      namespace: server.namespace,
      labelSelector: SELECTOR,
      services: [{service: 'frontend', deployment}],
      follow: true,
      previous: false,
      tail: 'all',
      reopen: REOPEN,
      ...options,
    },
  )
}

/** Runs a follow until `stop` says so, and returns every event. */
function follow(mux: LogMultiplexer) {
  const events: LogEvent[] = []
  const controller = new AbortController()
  const done = mux.run((event) => events.push(event), controller.signal)
  const lines = () =>
    events.filter((e): e is LogLineEvent => e.type === 'line').map((e) => `${e.pod}|${e.line}`)
  const until = async (what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> => {
    const started = Date.now()
    while (!ok()) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`timed out waiting for ${what}; events:\n${JSON.stringify(events, null, 1)}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  return {events, lines, until, stop: async () => (controller.abort(), done)}
}

function expectNoDuplicates(lines: string[]): void {
  expect(lines.filter((line, index) => lines.indexOf(line) !== index)).toEqual([])
}

describe('LogMultiplexer over client-node against the replay API server', () => {
  test('following a rolling update: the old pods, a cut stream resumed without repeats, then the new pods', async () => {
    const server = await replay('rolling-update', {speed: 20, until: 1000})
    const run = follow(multiplexer(server, 'rolling-update'))
    const [oldA, oldB] = ['rolling-update-68989fd955-4jll9', 'rolling-update-68989fd955-ngznx']
    await run.until('both old pods', () =>
      [oldA, oldB].every((pod) => run.lines().includes(`${pod}|${pod}/web #0 ready`)),
    )

    server.writeLog(oldA, 'web', 'GET / 200')
    await run.until('a new line of a followed pod', () => run.lines().includes(`${oldA}|GET / 200`))
    server.cutLogStreams()
    server.writeLog(oldA, 'web', 'GET /health 200')
    await run.until('the line written after the cut', () => run.lines().includes(`${oldA}|GET /health 200`))
    const reopened = server.requests.filter((r) => r.path.endsWith(`/pods/${oldA}/log`) && r.query.sinceTime)
    expect(reopened.length).toBeGreaterThan(0)

    server.playUntil(Number.POSITIVE_INFINITY)
    await run.until('the pods the rollout created', () =>
      ['rolling-update-6c5f48d884-mbwg7', 'rolling-update-6c5f48d884-vqtth'].every((pod) =>
        run.lines().includes(`${pod}|${pod}/web #0 ready`),
      ),
    )
    const summary = await run.stop()

    expectNoDuplicates(run.lines())
    expect(summary.pods).toBe(4)
    const line = run.events.find((e): e is LogLineEvent => e.type === 'line')
    expect(line).toMatchObject({service: 'frontend', container: 'web', previous: false})
    expect(line?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
    // Follows are watches, not polls: one pod list per watch start, not one per second.
    expect(
      server.requests.filter((r) => r.path.endsWith('/pods') && r.query.watch !== 'true').length,
    ).toBeLessThan(4)
  })

  test('a crash-looping container: every new instance is streamed once, and the wait is explained', async () => {
    // From t=6200: the second instance (#1) has just exited; #2 starts at t=20166, #3 at t=47222.
    const server = await replay('crash-loop', {speed: 40, startAt: 6200, until: 50_000})
    const run = follow(multiplexer(server, 'crash-loop'))
    const pod = 'crash-loop-6cdbc74d56-shwvb'
    await run.until('the fourth instance', () => run.lines().includes(`${pod}|${pod}/web #3 ready`))
    await run.stop()

    expect(run.lines()).toEqual(
      [1, 2, 3].flatMap((n) => [`${pod}|${pod}/web #${n} starting`, `${pod}|${pod}/web #${n} ready`]),
    )
    const notices = run.events.filter((e): e is LogNoticeEvent => e.type === 'notice').map((e) => e.message)
    expect(notices).toEqual([
      'Error: exited 1, 1 restarts',
      'CrashLoopBackOff: exited 1 1 times',
      'Error: exited 1, 2 restarts',
      'CrashLoopBackOff: exited 1 2 times',
      'Error: exited 1, 3 restarts',
    ])
  })

  test('--previous when the kubelet removed the crashed instance: the explanation, never its raw text', async () => {
    for (const answer of ['http-200', 'http-400'] as const) {
      // t=6500: the second instance has exited; the kubelet already removed the first one's log.
      const server = await replay('crash-loop', {speed: 40, until: 6500})
      const pod = 'crash-loop-6cdbc74d56-shwvb'
      const mux = multiplexer(server, 'crash-loop', {follow: false, previous: true})
      const events: LogEvent[] = []
      await server.reached(0)
      await new Promise((resolve) => setTimeout(resolve, 10))
      await mux.run((event) => events.push(event)) // first request starts the clock
      await server.reached(6500)
      expect(server.instances(pod, 'web')).toHaveLength(2)
      server.removeLog(pod, 'web', 0, answer)
      events.length = 0
      await mux.run((event) => events.push(event))

      expect(events).toEqual([
        {
          type: 'notice',
          reason: 'previous-gone',
          service: 'frontend',
          pod,
          container: 'web',
          message:
            'no logs of the previous instance: it wrote nothing, or the kubelet has already removed them',
        },
      ])
      expect(JSON.stringify(events)).not.toContain('unable to retrieve')
    }
  })

  test('--previous of a restarted container prints the crashed instance', async () => {
    const server = await replay('crash-loop', {speed: 40, until: 8000})
    const pod = 'crash-loop-6cdbc74d56-shwvb'
    await multiplexer(server, 'crash-loop', {follow: false}).run(() => {})
    await server.reached(8000)
    const events: LogEvent[] = []
    await multiplexer(server, 'crash-loop', {follow: false, previous: true}).run((event) =>
      events.push(event),
    )
    // t=8000: CrashLoopBackOff after the second exit; the kubelet's previous instance is #1.
    expect(
      events.map((e) => (e.type === 'line' ? `${e.line} (previous: ${e.previous})` : e.message)),
    ).toEqual([`${pod}/web #1 starting (previous: true)`, `${pod}/web #1 ready (previous: true)`])
  })

  test('a pod that cannot start says why instead of printing nothing', async () => {
    const server = await replay('image-never-pull', {speed: 100})
    await server.reached(0)
    const mux = multiplexer(server, 'image-never-pull', {follow: false})
    await mux.run(() => {})
    server.playUntil(Number.POSITIVE_INFINITY)
    await server.reached(server.scenario.events.at(-1)?.t ?? 0)
    const events: LogEvent[] = []
    await mux.run((event) => events.push(event))
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({type: 'notice', reason: 'waiting', container: 'web'})
    expect((events[0] as LogNoticeEvent).message).toMatch(/^no logs yet: ErrImageNeverPull: /)
  })
})
