import {lookup} from 'node:dns/promises'
import http from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'

import {InterruptedError} from '../errors.js'
import {releaseSelector, type ClusterApi} from '../kube/kube-client.js'

export interface IngressGetRequest {
  address: string
  port: number
  host: string
  path: string
  timeoutMs: number
}

export interface IngressCheckOptions {
  /** How long `up` waits for the Ingress to get an address from its controller. */
  addressWaitMs: number
  pollMs: number
  requestTimeoutMs: number
  /** The port the ingress controller listens on at its address. */
  httpPort: number
  /** One GET through the address with the Host header; resolves to the HTTP status. */
  get(request: IngressGetRequest): Promise<number>
  /** The addresses the host name resolves to on this machine ([] when it does not). */
  resolve(host: string): Promise<string[]>
  signal?: AbortSignal
}

export const DEFAULT_INGRESS_CHECK: IngressCheckOptions = {
  addressWaitMs: 60_000,
  pollMs: 2_000,
  requestTimeoutMs: 5_000,
  httpPort: 80,
  get: getThroughAddress,
  resolve: resolveHost,
}

export type IngressOutcome =
  /** The Ingress answered 2xx/3xx through its address; `hostResolves`: the host name leads there from here. */
  | {kind: 'served'; ingress: string; address: string; status: number; hostResolves: boolean}
  /** No IngressClass of that name: no controller will ever give the Ingress an address. */
  | {kind: 'no-controller'; className: string}
  | {kind: 'no-address'; ingress: string | null; waitedMs: number}
  | {kind: 'no-answer'; ingress: string; address: string; detail: string}

export interface IngressTarget {
  namespace: string
  release: string
  host: string
  className: string
}

/**
 * Whether the URL an Ingress promises is served: the Ingress gets an address from a controller (waited
 * for a bounded time), and a GET through that address with the Ingress host answers.
 */
export async function checkIngress(
  api: Pick<ClusterApi, 'listIngresses' | 'ingressClassExists'>,
  target: IngressTarget,
  options: IngressCheckOptions,
  onLine: (line: string) => void,
): Promise<IngressOutcome> {
  if ((await api.ingressClassExists(target.className)) === false)
    return {kind: 'no-controller', className: target.className}
  const started = Date.now()
  onLine(
    `waiting up to ${seconds(options.addressWaitMs)} for the Ingress of ${target.host} to get an address`,
  )
  for (;;) {
    const ingresses = await api.listIngresses(target.namespace, releaseSelector(target.release))
    const ingress = ingresses.find((candidate) => candidate.hosts.includes(target.host))
    const address = ingress?.addresses[0]
    if (ingress && address !== undefined) {
      onLine(`GET http://${target.host}/ through ${address}`)
      return answerThrough(ingress.name, address, target.host, options)
    }
    const waited = Date.now() - started
    if (waited >= options.addressWaitMs)
      return {kind: 'no-address', ingress: ingress?.name ?? null, waitedMs: waited}
    try {
      await sleep(Math.min(options.pollMs, options.addressWaitMs - waited), undefined, {
        signal: options.signal,
      })
    } catch {
      throw new InterruptedError('interrupted while waiting for the Ingress address')
    }
  }
}

async function answerThrough(
  ingress: string,
  address: string,
  host: string,
  options: IngressCheckOptions,
): Promise<IngressOutcome> {
  let status: number
  try {
    status = await options.get({
      address,
      port: options.httpPort,
      host,
      path: '/',
      timeoutMs: options.requestTimeoutMs,
    })
  } catch (error) {
    return {
      kind: 'no-answer',
      ingress,
      address,
      detail: error instanceof Error ? error.message : String(error),
    }
  }
  if (status < 200 || status >= 400)
    return {kind: 'no-answer', ingress, address, detail: `it answered HTTP ${status}`}
  const resolved = await options.resolve(host)
  return {kind: 'served', ingress, address, status, hostResolves: resolved.includes(address)}
}

/** What `up` tells the user: a warning with the fix when the Ingress URL does not work from here. */
export function ingressWarning(outcome: IngressOutcome, host: string, fallback: string): string | undefined {
  const hostsLine = (address: string): string =>
    `add the line \`${address} ${host}\` to /etc/hosts (C:\\Windows\\System32\\drivers\\etc\\hosts on Windows)`
  const enable =
    'enable an ingress controller (`minikube addons enable ingress`), then run `todo-deploy up` again'
  switch (outcome.kind) {
    case 'served':
      return outcome.hostResolves
        ? undefined
        : `http://${host} is served through the Ingress at ${outcome.address}, but ${host} does not lead there from this machine: ${hostsLine(outcome.address)}; meanwhile use ${fallback}`
    case 'no-controller':
      return `http://${host} is not served: the cluster has no ingress controller (no IngressClass "${outcome.className}"): ${enable}, and ${hostsLine('<its address>')}; meanwhile use ${fallback}`
    case 'no-address':
      return `http://${host} is not served: the Ingress${outcome.ingress ? ` ${outcome.ingress}` : ''} got no address within ${seconds(outcome.waitedMs)} (is an ingress controller running?): ${enable}; meanwhile use ${fallback}`
    case 'no-answer':
      return `http://${host} did not answer through the Ingress address ${outcome.address} (${outcome.detail}): check the ingress controller's pods (\`kubectl get pods -A -l app.kubernetes.io/name=ingress-nginx\`), and ${hostsLine(outcome.address)}; meanwhile use ${fallback}`
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
}

/** A GET to the ingress controller's address that names the Ingress host, as a browser would once the host resolves. */
export function getThroughAddress(request: IngressGetRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = http.request(
      {
        host: request.address,
        port: request.port,
        path: request.path,
        method: 'GET',
        headers: {host: request.host},
        timeout: request.timeoutMs,
      },
      (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      },
    )
    call.on('timeout', () =>
      call.destroy(new Error(`no answer within ${Math.round(request.timeoutMs / 1000)}s`)),
    )
    call.on('error', reject)
    call.end()
  })
}

const RESOLVE_TIMEOUT_MS = 2_000

/** The addresses the system resolver gives the host (hosts file included), [] when none in time. */
export async function resolveHost(host: string): Promise<string[]> {
  const timeout = sleep(RESOLVE_TIMEOUT_MS, [] as string[], {ref: false})
  const found = lookup(host, {all: true}).then(
    (addresses) => addresses.map((entry) => entry.address),
    () => [] as string[],
  )
  return Promise.race([found, timeout])
}
