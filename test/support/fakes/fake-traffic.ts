import type {TrafficOutcome, TrafficRequest} from '../../../src/lib/kube/traffic/service-traffic-tracker.js'
import type {TrafficWaiter} from '../../../src/lib/lifecycle/ports.js'
import {work} from './abortable-work.js'
import type {CallLog} from './call-log.js'
import {ENDPOINT_PROPAGATION_MS, PROXY_PROPAGATION_MS} from './cluster-lags.js'

/**
 * Which version the app's URL serves, over time, and the traffic waiter that watches it. A rollout
 * that ends (`rollTo`) switches the Services to the new version; with `lags` on, as on a real cluster,
 * the EndpointSlices list the new pods alone only ENDPOINT_PROPAGATION_MS later and kube-proxy routes
 * to them alone PROXY_PROPAGATION_MS after that: until then every other GET still reaches an old pod.
 * Time is `Date.now()`, so vitest's fake timers drive it.
 *
 * Knobs: `lags` (default off: a switch is instant, and long past when the wait asks), `stuckOldPods`
 * (old pods that never leave the endpoints: every wait times out naming them).
 */
export class FakeTraffic implements TrafficWaiter {
  lags = false
  stuckOldPods: string[] = []
  readonly sawAbort: string[] = []
  /** The version the URL serves once the switch is complete, and the one it served before. */
  current: string | undefined
  previous: string | undefined
  private switchedAt = 0
  private gets = 0

  constructor(private readonly log: CallLog) {}

  /** A rollout of `version` ended now: its pods are ready, the old ones are terminating. */
  rollTo(version: string): void {
    if (version === this.current) return
    this.previous = this.current
    this.current = version
    this.switchedAt = Date.now()
  }

  /** The release's pods are gone (uninstalled): no old version is left to answer the next rollout's GETs. */
  removed(): void {
    this.previous = undefined
    this.current = undefined
  }

  /** The version one GET of the app's URL answers with now. */
  get(): string | undefined {
    const old = this.previous !== undefined && Date.now() < this.proxySwitchedAt()
    return old && this.gets++ % 2 === 0 ? this.previous : this.current
  }

  async wait(request: TrafficRequest): Promise<TrafficOutcome> {
    const {signal, onProgress, startAfter, ...recorded} = request
    this.log.record('traffic.wait', recorded)
    await startAfter
    const services = (oldPods: string[]) =>
      request.services.map((routed) => ({
        ...routed,
        newPods: [`${routed.deployment}-new`],
        oldPods,
        served: oldPods.length === 0,
      }))
    if (this.stuckOldPods.length > 0) {
      await work(request.timeoutMs, signal, 'traffic wait', this.sawAbort)
      return {status: 'timed-out', services: services(this.stuckOldPods)}
    }
    const endpointsAt = this.lags ? this.switchedAt + ENDPOINT_PROPAGATION_MS : 0
    await work(Math.max(0, endpointsAt - Date.now()), signal, 'traffic wait', this.sawAbort)
    onProgress?.(services([]))
    return {status: 'served', services: services([]), servedSince: endpointsAt}
  }

  private proxySwitchedAt(): number {
    return this.lags ? this.switchedAt + ENDPOINT_PROPAGATION_MS + PROXY_PROPAGATION_MS : 0
  }
}
