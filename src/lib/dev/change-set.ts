import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'

/** The files of one service's build context that changed (POSIX paths relative to the context). */
export interface ServiceChange {
  service: ServiceName
  files: number
  paths: readonly string[]
}

/**
 * What changed since the last iteration of `dev` began: one value however many file events made it, so
 * a `git checkout` of 500 files is one change set and so one iteration.
 */
export interface ChangeSet {
  /** Services whose build context (or Dockerfile) changed, in the order of SERVICE_NAMES. */
  services: readonly ServiceChange[]
  /** `todo-deploy.yaml` changed. */
  config: boolean
  /** A file of the chart folder changed. */
  chart: boolean
  /** The `.env` file changed. */
  env: boolean
  /** The user asked for a rebuild now (the `r` key). */
  manual: boolean
}

export type ChangeKind = ServiceName | 'config' | 'chart' | 'env'

export const MANUAL_REBUILD: ChangeSet = Object.freeze({
  services: [],
  config: false,
  chart: false,
  env: false,
  manual: true,
})

/** Collects file events until they are handed on as one ChangeSet. */
export class ChangeCollector {
  readonly #paths = new Map<ServiceName, Set<string>>()
  readonly #flags = {config: false, chart: false, env: false}

  record(kind: ChangeKind, relativePath = ''): void {
    if (kind === 'config' || kind === 'chart' || kind === 'env') {
      this.#flags[kind] = true
      return
    }
    let paths = this.#paths.get(kind)
    if (paths === undefined) this.#paths.set(kind, (paths = new Set()))
    paths.add(relativePath)
  }

  get empty(): boolean {
    return this.#paths.size === 0 && !this.#flags.config && !this.#flags.chart && !this.#flags.env
  }

  /** The collected changes; the collector starts empty again. */
  take(): ChangeSet {
    const services = SERVICE_NAMES.flatMap((service) => {
      const paths = this.#paths.get(service)
      return paths === undefined ? [] : [{service, files: paths.size, paths: [...paths].sort()}]
    })
    const changes: ChangeSet = {services, ...this.#flags, manual: false}
    this.#paths.clear()
    this.#flags.config = this.#flags.chart = this.#flags.env = false
    return changes
  }
}

/** Both change sets as one: a file changed in both counts once. */
export function mergeChangeSets(a: ChangeSet, b: ChangeSet): ChangeSet {
  const services = SERVICE_NAMES.flatMap((service) => {
    const left = a.services.find((change) => change.service === service)
    const right = b.services.find((change) => change.service === service)
    if (left === undefined && right === undefined) return []
    const paths = [...new Set([...(left?.paths ?? []), ...(right?.paths ?? [])])].sort()
    return [{service, files: paths.length, paths}]
  })
  return {
    services,
    config: a.config || b.config,
    chart: a.chart || b.chart,
    env: a.env || b.env,
    manual: a.manual || b.manual,
  }
}

/** Whether nothing at all changed (and no rebuild was asked for). */
export function isEmptyChangeSet(changes: ChangeSet): boolean {
  return changes.services.length === 0 && !changes.config && !changes.chart && !changes.env && !changes.manual
}
