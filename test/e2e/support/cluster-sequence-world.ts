import {execa} from 'execa'

import type {Operation, SequenceService, SourceContent} from '../../support/sequence/app-model.js'
import type {SequenceWorld} from '../../support/sequence/sequence-runner.js'
import {GETS_AFTER_DEPLOY, TagBook, type Observation} from '../../support/sequence/step-check.js'
import type {StatusJson, UpJson} from './cli-results.js'
import {waitFor, type ClusterTools} from './cluster-tools.js'
import type {E2eProject} from './e2e-project.js'
import {parseJson, type CliErrorJson, type CliRun, type TodoDeployCli} from './todo-deploy-cli.js'

interface K8sPodList {
  items: {
    metadata: {labels?: Record<string, string>; deletionTimestamp?: string}
    spec: {containers: {image: string}[]}
    status?: {conditions?: {type: string; status: string}[]}
  }[]
}

interface DevEvent {
  event: string
  url?: string
  result?: UpJson
  error?: {exitCode: number}
}

const PAGE_VERSION = /todo-e2e frontend (v\d+)/
const DEPLOYMENT_OF: Record<string, SequenceService> = {
  'todo-frontend': 'frontend',
  'todo-backend': 'backend',
}
const DEV_STEP_TIMEOUT_MS = 6 * 60_000

/**
 * The sequence played with the built CLI on the cluster of the current kube context, one process per
 * command as a user runs them, and observed from outside: kubectl and helm for the release and its
 * pods, `minikube image ls` for the images, plain GETs for what the URL serves.
 */
export class ClusterSequenceWorld implements SequenceWorld {
  readonly #tags = new TagBook()
  #url: string | undefined

  constructor(
    private readonly tools: ClusterTools,
    private readonly project: E2eProject,
    private readonly cli: TodoDeployCli,
  ) {}

  async run(operation: Operation, source: SourceContent): Promise<Observation> {
    switch (operation.kind) {
      case 'edit-frontend':
        this.project.setFrontendPage(source.frontend)
        return this.#observe({exitCode: 0, printed: ''})
      case 'edit-backend':
        this.project.setBackendEdit(source.backend.replace(/-crashing$/, ''))
        return this.#observe({exitCode: 0, printed: ''})
      case 'break-backend':
        this.project.breakBackend()
        return this.#observe({exitCode: 0, printed: ''})
      case 'fix-backend':
        this.project.repairBackend()
        return this.#observe({exitCode: 0, printed: ''})
      case 'up':
      case 'up-only': {
        const only = operation.kind === 'up-only' ? operation.service : undefined
        const run = await this.cli.run(['up', '--json', ...(only === undefined ? [] : ['--only', only])])
        const result = upResultOf(run)
        this.#learn(result, source, only)
        return this.#observe(printedBy(run), {url: result?.url, get: true})
      }
      case 'rollback': {
        const run = await this.cli.run(['rollback', '--json'])
        const url = run.exitCode === 0 ? parseJson<{url?: string | null}>(run).url : undefined
        return this.#observe(printedBy(run), {url, get: true})
      }
      case 'status': {
        const run = await this.cli.run(['status', '--json'])
        const state = run.exitCode === 0 ? parseJson<StatusJson>(run).state : undefined
        return {...(await this.#observe(printedBy(run))), state}
      }
      case 'down':
      case 'down-purge': {
        const purge = operation.kind === 'down-purge'
        const run = await this.cli.run(['down', '--yes', '--json', ...(purge ? ['--purge'] : [])])
        const observation = await this.#observe(printedBy(run))
        return purge ? {...observation, leftovers: await this.#leftovers()} : observation
      }
      case 'dev-iteration':
        return this.#devIteration(source)
    }
  }

  /** `dev`: wait for its first deploy, edit the page, wait for the iteration, GET at once, Ctrl-C. */
  async #devIteration(source: SourceContent): Promise<Observation> {
    const dev = this.cli.start(['dev', '--json', '--debounce', '300', '--no-logs'])
    const events = (): DevEvent[] =>
      dev
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as DevEvent)
    const seen = (names: string[]): Promise<DevEvent> =>
      waitFor(
        `dev to print ${names.join(' or ')}`,
        async () =>
          events().find((event) => names.includes(event.event)) ??
          (dev.finished ? {event: 'ended'} : undefined),
        {timeoutMs: DEV_STEP_TIMEOUT_MS, intervalMs: 100},
      )
    const first = await seen(['watching'])
    const up = events().find((event) => event.event === 'up')
    this.#learn(up?.result, {...source, frontend: previousVersion(source.frontend)}, undefined)
    if (first.event !== 'watching' || up?.error !== undefined) {
      dev.interrupt()
      const run = await dev.done
      return this.#observe({exitCode: up?.error?.exitCode ?? run.exitCode, printed: printedBy(run).printed})
    }
    this.project.setFrontendPage(source.frontend)
    const iteration = await seen(['iteration-finished', 'iteration-failed'])
    const served = await this.#gets(iteration.url ?? up?.result?.url ?? this.#url)
    // dev's URL may be its own port-forward, closed with it: later commands keep a cluster address.
    const published = [iteration.url, up?.result?.url].find((url) => url && !/\/\/127\.0\.0\.1:/.test(url))
    if (published) this.#url = published
    const frontendTag = (await this.tools.deploymentImage(this.project.namespace, 'todo-frontend'))
      .split(':')
      .at(-1)
    if (frontendTag !== undefined && this.#tags.contentOf('frontend', frontendTag).startsWith('unknown'))
      this.#tags.learn('frontend', frontendTag, source.frontend)
    dev.interrupt()
    const run = await dev.done
    return {...(await this.#observe(printedBy(run))), served}
  }

  /**
   * What this run built from: every service, except one `--only` left on its deployed image (with no
   * release yet, `--only` builds them all).
   */
  #learn(result: UpJson | undefined, source: SourceContent, only: SequenceService | undefined): void {
    for (const image of result?.images ?? []) {
      if (only === undefined || image.service === only || !image.buildSkipReason?.includes('--only'))
        this.#tags.learn(image.service, image.tag, source[image.service])
    }
  }

  async #observe(
    command: {exitCode: number | undefined; printed: string},
    options: {url?: string | null; get?: boolean} = {},
  ): Promise<Observation> {
    if (options.url) this.#url = options.url
    // The GETs go first: they are what the user does the moment the command returns.
    const served = options.get === true ? await this.#gets(this.#url) : []
    return {
      exitCode: command.exitCode,
      printed: command.printed,
      served,
      revision: (await this.tools.helmStatus(this.project.namespace, this.project.release))?.revision ?? 0,
      running: await this.#running(),
    }
  }

  /** GETS_AFTER_DEPLOY GETs back to back, each reduced to the page version it served (or its failure). */
  async #gets(url: string | undefined): Promise<string[]> {
    if (url === undefined) return []
    const versions: string[] = []
    for (let count = 0; count < GETS_AFTER_DEPLOY; count++) {
      try {
        const response = await fetch(url, {signal: AbortSignal.timeout(5000)})
        const body = await response.text()
        versions.push(PAGE_VERSION.exec(body)?.[1] ?? `HTTP ${response.status} without a version`)
      } catch (error) {
        versions.push(`GET failed: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    return versions
  }

  /** Per service, the content of its ready pods that are not terminating; null when no pod is left. */
  async #running(): Promise<Observation['running']> {
    const list = await this.tools.kubectl([
      '-n',
      this.project.namespace,
      'get',
      'pods',
      '-l',
      `app.kubernetes.io/instance=${this.project.release}`,
      '-o',
      'json',
    ])
    if (list.exitCode !== 0) return null
    const pods = (JSON.parse(list.stdout) as K8sPodList).items.filter(
      (pod) => pod.metadata.deletionTimestamp === undefined,
    )
    if (pods.length === 0) return null
    const running: Record<SequenceService, string[]> = {frontend: [], backend: []}
    for (const pod of pods) {
      const service = DEPLOYMENT_OF[pod.metadata.labels?.app ?? '']
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
      const tag = pod.spec.containers[0]?.image.split(':').at(-1)
      if (service === undefined || !ready || tag === undefined) continue
      running[service].push(this.#tags.contentOf(service, tag))
    }
    return running
  }

  /** The namespace (even Terminating) and the app's images the cluster still lists. */
  async #leftovers(): Promise<string[]> {
    const left: string[] = []
    const namespace = await this.tools.kubectl(['get', 'namespace', this.project.namespace, '-o', 'name'])
    if (namespace.exitCode === 0) left.push(`namespace ${this.project.namespace}`)
    const images = await execa('minikube', ['image', 'ls'], {reject: false, timeout: 60_000})
    for (const line of images.stdout.split('\n')) {
      if (
        (['frontend', 'backend'] as const).some((service) => line.includes(this.project.repository(service)))
      )
        left.push(`image ${line.trim()}`)
    }
    return left
  }
}

function printedBy(run: CliRun): {exitCode: number | undefined; printed: string} {
  return {exitCode: run.exitCode, printed: `${run.stdout}\n${run.stderr}`}
}

/** up --json's result, from the success or the failure shape. */
function upResultOf(run: CliRun): UpJson | undefined {
  try {
    const json = JSON.parse(run.stdout) as UpJson | CliErrorJson<UpJson>
    return 'error' in json ? json.result : json
  } catch {
    return undefined
  }
}

/** The page version before `version` (dev's first deploy runs the page as it was before its edit). */
function previousVersion(version: string): string {
  return `v${Number(version.slice(1)) - 1}`
}
