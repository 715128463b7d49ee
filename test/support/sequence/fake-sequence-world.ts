import {readFileSync} from 'node:fs'
import path from 'node:path'
import {setTimeout as realSleep} from 'node:timers/promises'

import {vi} from 'vitest'

import Dev from '../../../src/commands/dev.js'
import Down from '../../../src/commands/down.js'
import Rollback from '../../../src/commands/rollback.js'
import Status from '../../../src/commands/status.js'
import Up from '../../../src/commands/up.js'
import {imageTagsOf} from '../../../src/lib/lifecycle/release-tags.js'
import type {V1Pod} from '@kubernetes/client-node'
import {BUSYBOX_DOCKERFILE, runningRelease, type FakeCluster, type TestProject} from '../fake-connection.js'
import {runCommand, type CommandClass, type CommandRun} from '../run-command.js'
import type {Operation, SequenceService, SourceContent} from './app-model.js'
import type {SequenceWorld} from './sequence-runner.js'
import {GETS_AFTER_DEPLOY, TagBook, type Observation} from './step-check.js'

/** The crashing backend: a Dockerfile whose container exits at once (what `break-backend` writes). */
export const CRASHING_DOCKERFILE = 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "false"]\n'

/** Simulated time per real millisecond while a command runs: lags of seconds pass in a blink. */
const SIMULATED_MS_PER_TICK = 25
/** The simulated time one GET takes: 20 GETs span about the time kube-proxy takes to follow a rollout. */
const GET_ROUND_TRIP_MS = 50
/** Real time to wait for dev to deploy the edit before the step fails. */
const DEV_DEADLINE_MS = 20_000

const PAGE = 'frontend/app/index.html'
const BACKEND_EDIT = 'backend/app/edit.txt'
const BACKEND_DOCKERFILE = 'backend/Dockerfile'

export function pageOf(version: string): string {
  return `<h1>todo frontend ${version}</h1>\n`
}

/**
 * Runs `work` while simulated time flows: vitest's fake timers advance SIMULATED_MS_PER_TICK per real
 * millisecond, so the CLI's own timers (polls, debounce, timeouts) and the fakes' lags, which read
 * `Date.now()`, move together, while real I/O (files, the helm binary for `template`) keeps its pace.
 */
export async function inSimulatedTime<T>(work: Promise<T>): Promise<T> {
  let settled = false
  const tracked = work.finally(() => {
    settled = true
  })
  while (!settled) {
    await realSleep(1)
    await vi.advanceTimersByTimeAsync(SIMULATED_MS_PER_TICK)
  }
  return tracked
}

/**
 * Which frontend image (or tag) answers a GET to the app's URL at this simulated moment. By default
 * what the fake's endpoints and kube-proxy route to now (FakeTraffic with its lags): old pods keep
 * answering for a moment after a rollout ends, as on a real cluster.
 */
export type FrontendRouter = (fake: FakeCluster, get: number) => string | undefined

export const routeThroughProxy: FrontendRouter = (fake) => fake.traffic.get()

/**
 * The sequence over the in-process fakes, through the commands' own classes (as the CLI runs them,
 * with the FakeCluster injected by useDependencies). The fake kubelet runs what helm deployed, except
 * a crashing backend, whose rollout fails with CrashLoopBackOff while the old pods keep serving.
 */
export class FakeSequenceWorld implements SequenceWorld {
  readonly #tags = new TagBook()
  /** Backend tags built from the crashing Dockerfile. */
  readonly #crashing = new Set<string>()

  constructor(
    private readonly fake: FakeCluster,
    private readonly project: TestProject,
    private readonly route: FrontendRouter = routeThroughProxy,
  ) {
    this.fake.traffic.lags = true
    this.#recordBuilds()
    this.#kubeletFollowsHelm()
  }

  async run(operation: Operation, source: SourceContent): Promise<Observation> {
    switch (operation.kind) {
      case 'edit-frontend':
        this.project.write(PAGE, pageOf(source.frontend))
        return this.#observe(undefined)
      case 'edit-backend':
        this.project.write(BACKEND_EDIT, `${source.backend.replace(/-crashing$/, '')}\n`)
        return this.#observe(undefined)
      case 'break-backend':
        this.project.write(BACKEND_DOCKERFILE, CRASHING_DOCKERFILE)
        return this.#observe(undefined)
      case 'fix-backend':
        this.project.write(BACKEND_DOCKERFILE, BUSYBOX_DOCKERFILE)
        return this.#observe(undefined)
      case 'up':
        return this.#observe(await this.#command(Up, ['--json']), {get: true})
      case 'up-only':
        return this.#observe(await this.#command(Up, ['--json', '--only', operation.service]), {get: true})
      case 'rollback':
        return this.#observe(await this.#command(Rollback, ['--json']), {get: true})
      case 'status': {
        const run = await this.#command(Status, ['--json'])
        const state = run.exitCode === 0 ? (JSON.parse(run.stdout) as {state: string}).state : undefined
        return {...(await this.#observe(run)), state}
      }
      case 'down':
        return this.#observe(await this.#command(Down, ['--yes', '--json']))
      case 'down-purge':
        return {
          ...(await this.#observe(await this.#command(Down, ['--yes', '--purge', '--json']))),
          leftovers: this.#leftovers(),
        }
      case 'dev-iteration':
        return this.#devIteration(source)
    }
  }

  async #command(command: CommandClass, argv: string[]): Promise<CommandRun<unknown>> {
    return inSimulatedTime(runCommand(command, argv, {cwd: this.project.dir}))
  }

  /**
   * `dev`: once it watches (its first deploy done), the page is edited (again, until the watcher saw
   * it) until the new page is deployed; GETs at once, then Ctrl-C.
   */
  async #devIteration(source: SourceContent): Promise<Observation> {
    const running = runCommand(Dev, ['--json', '--debounce', '50', '--no-logs'], {cwd: this.project.dir})
    // runCommand has put its capture in place of stdout.write: read the JSON events as they come too.
    let printed = ''
    const capture = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      printed += chunk.toString()
      return capture(chunk, ...rest)
    }) as typeof process.stdout.write
    let ended = false
    const simulated = inSimulatedTime(running).finally(() => {
      ended = true
    })
    const events = (): string[] =>
      [...printed.matchAll(/"event":"([a-z-]+)"/g)].map((match) => match[1] ?? '')
    const deadline = performance.now() + DEV_DEADLINE_MS
    const before = (condition: () => boolean) => !ended && !condition() && performance.now() < deadline
    while (before(() => events().includes('watching'))) await realSleep(5)
    const firstDeployFailed = /"event":"up","at":"[^"]*","error"/.test(printed)
    while (!firstDeployFailed && before(() => events().includes('iteration-started'))) {
      this.project.write(PAGE, pageOf(source.frontend))
      await realSleep(100)
    }
    const iterated = (): boolean => events().some((event) => event.startsWith('iteration-f'))
    while (!firstDeployFailed && before(iterated)) await realSleep(5)
    const served = iterated() ? await this.#gets() : []
    process.emit('SIGINT', 'SIGINT')
    const run = await simulated
    return {...(await this.#observe(run)), served}
  }

  async #observe(run: CommandRun<unknown> | undefined, options: {get?: boolean} = {}): Promise<Observation> {
    const served = options.get === true && run !== undefined ? await this.#gets() : []
    const {release, namespace} = this.project.resolved.config
    return {
      exitCode: run?.exitCode ?? 0,
      printed: run === undefined ? '' : `${run.stdout}\n${run.stderr}`,
      served,
      revision: this.fake.helm.revisions(release, namespace).at(-1)?.revision ?? 0,
      running: this.#running(),
    }
  }

  /** GETS_AFTER_DEPLOY GETs, GET_ROUND_TRIP_MS of simulated time apart, as the page version each served. */
  async #gets(): Promise<string[]> {
    const versions: string[] = []
    for (let get = 0; get < GETS_AFTER_DEPLOY; get++) {
      const image = this.route(this.fake, get)
      versions.push(image === undefined ? 'no pod answered' : this.#tags.contentOf('frontend', tagOf(image)))
      await vi.advanceTimersByTimeAsync(GET_ROUND_TRIP_MS)
    }
    return versions
  }

  #running(): Observation['running'] {
    const pods = this.fake.workloads.current.pods.filter(
      (pod) => pod.metadata?.deletionTimestamp === undefined,
    )
    if (pods.length === 0) return null
    const running: Record<SequenceService, string[]> = {frontend: [], backend: []}
    for (const pod of pods.filter(isReady)) {
      const service = pod.metadata?.labels?.app === 'todo-frontend' ? 'frontend' : 'backend'
      running[service].push(this.#tags.contentOf(service, tagOf(pod.spec?.containers[0]?.image ?? '')))
    }
    return running
  }

  #leftovers(): string[] {
    const {namespace} = this.project.resolved.config
    return [
      ...(this.fake.api.namespaces.has(namespace) ? [`namespace ${namespace}`] : []),
      ...[...this.fake.cluster.images.keys()].map((ref) => `image ${ref} in the cluster`),
    ]
  }

  /** Learns each tag's content from the build context as the engine builds it. */
  #recordBuilds(): void {
    const engine = this.fake.engine
    const build = engine.build.bind(engine)
    engine.build = async (request, onProgress) => {
      const service: SequenceService = request.repository.endsWith('frontend') ? 'frontend' : 'backend'
      const read = (relative: string): string => {
        try {
          return readFileSync(path.join(this.project.dir, relative), 'utf8')
        } catch {
          return ''
        }
      }
      if (service === 'frontend') {
        this.#tags.learn(service, request.tag, /todo frontend (v\d+)/.exec(read(PAGE))?.[1] ?? 'v?')
      } else {
        const crashing = request.dockerfileText === CRASHING_DOCKERFILE
        if (crashing) this.#crashing.add(request.tag)
        this.#tags.learn(
          service,
          request.tag,
          `${read(BACKEND_EDIT).trim() || 'b0'}${crashing ? '-crashing' : ''}`,
        )
      }
      return build(request, onProgress)
    }
  }

  /**
   * The kubelet as seen by the release: each rollout wait runs helm's newest revision, unless its
   * backend crashes (the wait fails, the old pods stay); an uninstall takes the pods away.
   */
  #kubeletFollowsHelm(): void {
    const {release, namespace} = this.project.resolved.config
    this.fake.rollout.beforeWait = () => {
      const tags = imageTagsOf(this.fake.helm.revisions(release, namespace).at(-1)?.config)
      if (tags.backend !== undefined && this.#crashing.has(tags.backend)) {
        // The frontend's new pods still roll out and take the traffic until up rolls the release back.
        if (tags.frontend !== undefined) this.fake.traffic.rollTo(tags.frontend)
        this.fake.rollout.script.unshift({status: 'failed', reason: 'CrashLoopBackOff'})
        return
      }
      this.fake.workloads.publish(runningRelease(this.project.resolved, tags))
      if (tags.frontend !== undefined) this.fake.traffic.rollTo(tags.frontend)
    }
    const previous = this.fake.log.onCall
    this.fake.log.onCall = (name, args) => {
      previous?.(name, args)
      if (name !== 'helm.uninstall') return
      this.fake.workloads.publish({deployments: [], pods: [], services: []})
      this.fake.traffic.removed()
    }
  }
}

function isReady(pod: V1Pod): boolean {
  return (
    pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ??
    false
  )
}

function tagOf(image: string): string {
  return image.split(':').at(-1) ?? image
}
