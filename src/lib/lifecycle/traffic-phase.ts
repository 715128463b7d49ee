import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
import {DeployError} from '../errors.js'
import {interruptiblePause} from '../interruptible-pause.js'
import {releaseSelector} from '../kube/kube-client.js'
import type {TrafficOutcome} from '../kube/traffic/service-traffic-tracker.js'
import {describeTraffic} from '../kube/traffic/traffic-verdict.js'
import type {Connection} from './ports.js'

/**
 * How long kube-proxy may still route to the old pods after the EndpointSlices stopped listing them:
 * it rewrites the node's iptables rules after its own watch sees the change. Measured on the rig's
 * single-node v1.24 (iptables mode, minSyncPeriod 0) under load: the last old answer came 0.4-1.1 s
 * after a watch saw the final EndpointSlice (docs/lifecycle.md, "What up waits for").
 */
export const KUBE_PROXY_SETTLE_MS = 1_500

/** The traffic phase's watch, started before the rollout ends so that it sees when the switch happened. */
export interface TrafficWatch {
  /** Sends progress lines to `report` from now on, and gives the phase's outcome line (or throws). */
  attach(report: (line: string) => void): Promise<string>
  stop(): void
}

/**
 * Follows the configured release's Services until each routes to its Deployment's new pods alone,
 * from now on, judged once `startAfter` settles (the rollout is over). The Services must have
 * switched at least KUBE_PROXY_SETTLE_MS before the outcome: kube-proxy follows the EndpointSlices a
 * moment later. On timeout, a DeployError names the old pods that still receive traffic.
 */
export function followTraffic(
  resolved: ResolvedConfig,
  connection: Pick<Connection, 'traffic'>,
  request: {timeoutMs: number; signal?: AbortSignal; startAfter?: Promise<unknown>},
): TrafficWatch {
  const {config} = resolved
  const stop = new AbortController()
  const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal
  let report: (line: string) => void = () => {}
  const services = SERVICE_NAMES.filter((name) => config.services[name].enabled).map((name) => ({
    service: config.services[name].service.name,
    deployment: config.services[name].deployment,
  }))
  const outcome = connection.traffic.wait({
    namespace: config.namespace,
    labelSelector: releaseSelector(config.release),
    services,
    timeoutMs: request.timeoutMs,
    signal,
    startAfter: request.startAfter,
    onProgress: (standing) => report(standing.map(describeTraffic).join('; ')),
  })
  // Awaited by the traffic phase; a watch ended by a failed rollout or a stop is nobody's error.
  outcome.catch(() => {})
  return {
    attach: async (to) => {
      report = to
      return settle(await outcome, {...request, namespace: config.namespace}, to)
    },
    stop: () => stop.abort(),
  }
}

/** Waits (in one go) for the Services and kube-proxy: `followTraffic` for a caller that did not start it early. */
export function awaitTraffic(
  resolved: ResolvedConfig,
  connection: Pick<Connection, 'traffic'>,
  request: {timeoutMs: number; signal?: AbortSignal; onLine: (line: string) => void},
): Promise<string> {
  return followTraffic(resolved, connection, request).attach(request.onLine)
}

async function settle(
  outcome: TrafficOutcome,
  request: {timeoutMs: number; signal?: AbortSignal; namespace: string},
  report: (line: string) => void,
): Promise<string> {
  if (outcome.status === 'timed-out') {
    const stuck = outcome.services.filter((service) => !service.served)
    throw new DeployError(
      `the Services did not route to the new pods alone within ${Math.round(request.timeoutMs / 1000)}s`,
      {
        details: stuck.map((service) =>
          service.oldPods.length > 0
            ? `${service.service} still sends traffic to ${service.oldPods.join(', ')}`
            : `${service.service}: waiting for ${service.waitingFor ?? 'its endpoints'}`,
        ),
        fix: `see them with \`kubectl -n ${request.namespace} get endpointslices,pods -o wide\`: a pod of another Deployment, or a bare pod, whose labels match the Service's selector gets its traffic too; delete it or make the selector tell it apart, then run the command again`,
      },
    )
  }
  const routed = outcome.services.map((service) => describeTraffic(service)).join(', ')
  const remaining = outcome.servedSince + KUBE_PROXY_SETTLE_MS - Date.now()
  if (remaining > 0) {
    report(`${routed}; allowing ${(remaining / 1000).toFixed(1)}s for kube-proxy to update the node's rules`)
    await interruptiblePause(remaining, request.signal, 'kube-proxy')
  }
  return routed
}
