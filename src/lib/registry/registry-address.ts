import {isIP} from 'node:net'

/**
 * Where images go: `registry.url` split into the registry host (what `docker login` and the Docker
 * config's `auths` are keyed by) and the repository namespace under it.
 * `registry.example.com/team` → host `registry.example.com`, namespace `team`.
 */
export interface RegistryAddress {
  /** `host[:port]`, as Docker names the registry. */
  host: string
  /** Path under the host (`team`, `org/team`), or '' for the registry's root. */
  namespace: string
  /** Plain HTTP instead of HTTPS for the registry API (`registry.insecure`). */
  insecure: boolean
}

// The grammar of github.com/distribution/reference: a domain (DNS labels, an IPv4 address or a bracketed
// IPv6 address) with an optional port, then lowercase path components.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
export const REGISTRY_URL_PATTERN = new RegExp(`^${HOST}(?:/${PATH_COMPONENT})*$`)

/**
 * Docker reads the first path component as a registry only when it has a dot or a port, or is
 * `localhost`; `team/app` is a Docker Hub user. The same test tells a registry host from a namespace.
 */
export function looksLikeRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost'
}

/** `registry.url` (already validated) → host and namespace. */
export function parseRegistryUrl(url: string, insecure = false): RegistryAddress {
  const slash = url.indexOf('/')
  return slash < 0
    ? {host: url, namespace: '', insecure}
    : {host: url.slice(0, slash), namespace: url.slice(slash + 1), insecure}
}

/** The host name without its port or IPv6 brackets: `127.0.0.1:5000` → `127.0.0.1`, `[::1]:5000` → `::1`. */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'))
  const colon = host.lastIndexOf(':')
  return colon < 0 ? host : host.slice(0, colon)
}

/**
 * Whether traffic to `host` never leaves this machine: the loopback addresses, `localhost` and
 * `*.localhost` (reserved for loopback by RFC 6761; k3d names its registries so). Only there is plain
 * HTTP (`registry.insecure`) allowed, since it would carry the registry credentials in the clear.
 */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host).toLowerCase()
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (isIP(name) === 4) return name.startsWith('127.')
  if (isIP(name) === 6) return name === '::1' || name === '0:0:0:0:0:0:0:1'
  return false
}

/** The repository path inside the registry: `team/todo-frontend` (no host). */
export function repositoryPath(address: RegistryAddress, repository: string): string {
  return address.namespace === '' ? repository : `${address.namespace}/${repository}`
}

/** The full image name Docker and the cluster use: `registry.example.com/team/todo-frontend`. */
export function registryRepository(address: RegistryAddress, repository: string): string {
  return `${address.host}/${repositoryPath(address, repository)}`
}

/** The base URL of the registry API (`https://host/v2/`, or `http://` when insecure). */
export function registryApiBase(address: RegistryAddress): string {
  return `${address.insecure ? 'http' : 'https'}://${address.host}/v2/`
}
