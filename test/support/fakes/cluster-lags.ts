/**
 * How long a real cluster takes to catch up, as measured on a single-node Kubernetes v1.24 (containerd,
 * kube-proxy in iptables mode). The fakes model these lags so that a sequence of commands meets the same
 * stale state a user meets; they read the time with `Date.now()`, so vitest's fake timers drive them in
 * simulated time. See docs/lifecycle.md ("What up waits for").
 */

/** The kubelet refreshes the node's `status.images` on its own period: an import or a removal shows late. */
export const NODE_IMAGE_LIST_REFRESH_MS = {min: 15_000, max: 60_000} as const

/** A deleted namespace stays Terminating while its objects are removed and its finalizers run. */
export const NAMESPACE_TERMINATION_MS = 4_000

/** A pod that turned ready (or stopped) shows in its Service's EndpointSlices after about this long. */
export const ENDPOINT_PROPAGATION_MS = 1_000

/** kube-proxy rewrites the node's rules after the EndpointSlices change, after about this long. */
export const PROXY_PROPAGATION_MS = 1_000

/** A Terminating pod keeps serving until its grace period ends (or its process exits on SIGTERM). */
export const TERMINATION_GRACE_MS = 30_000
