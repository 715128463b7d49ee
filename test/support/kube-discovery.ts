/**
 * The legacy discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`) for the kinds a
 * FakeKubeApiServer stores. client-go (inside helm and kubectl) builds its REST mapper from them before it touches an
 * object; the aggregated-discovery Accept header is answered with these plain documents, which client-go
 * accepts as the fallback.
 */

export interface DiscoverableResource {
  /** The plural, as in the URL: `configmaps`. */
  name: string
  prefix: string
  kind: string
  apiVersion: string
  namespaced: boolean
  /** What kubectl accepts for the plural (`svc`, `deploy`). */
  shortNames?: string[]
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']

export interface DiscoveryAnswer {
  body: unknown
  contentType?: string
}

/**
 * The answer to a discovery GET of `path`, or undefined when `path` is not a discovery path. helm's
 * client-side validation downloads `/openapi/v2` as protobuf: an empty body is a valid, empty document,
 * and client-go skips validating a kind the schema does not know.
 */
export function discoveryAnswer(
  path: string,
  resources: readonly DiscoverableResource[],
): DiscoveryAnswer | undefined {
  const trimmed = path.replace(/\/+$/, '')
  if (trimmed === '/openapi/v2') {
    return {body: '', contentType: 'application/octet-stream'}
  }
  const document = discoveryDocument(trimmed, resources)
  return document === undefined ? undefined : {body: document}
}

function discoveryDocument(trimmed: string, resources: readonly DiscoverableResource[]): unknown {
  if (trimmed === '/api') return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: []}
  if (trimmed === '/apis') {
    const groups = new Map<string, string[]>()
    for (const resource of resources) {
      const [group, version] = resource.apiVersion.split('/')
      if (version === undefined) continue
      const versions = groups.get(group as string) ?? []
      if (!versions.includes(version)) versions.push(version)
      groups.set(group as string, versions)
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: versions.map((version) => ({groupVersion: `${name}/${version}`, version})),
        preferredVersion: {groupVersion: `${name}/${versions[0]}`, version: versions[0]},
      })),
    }
  }
  const inGroup = resources.filter((resource) => resource.prefix === trimmed)
  if (inGroup.length === 0) return undefined
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: inGroup[0]?.apiVersion,
    resources: inGroup.map((resource) => ({
      name: resource.name,
      singularName: resource.kind.toLowerCase(),
      namespaced: resource.namespaced,
      kind: resource.kind,
      verbs: VERBS,
      ...(resource.shortNames ? {shortNames: resource.shortNames} : {}),
    })),
  }
}
