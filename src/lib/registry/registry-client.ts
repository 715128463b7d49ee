import {parse as parseChallenge} from 'auth-header'
import {z} from 'zod'

import {PrerequisiteError} from '../errors.js'
import {registryApiBase, type RegistryAddress} from './registry-address.js'
import type {RegistryCredential} from './registry-credential.js'
import {connectionFailure, RegistryRefusedError, RegistryUnreachableError} from './registry-errors.js'

/**
 * Every manifest type a tag can name. Without the schema 2 and OCI types a registry may answer with a
 * converted schema 1 manifest, whose digest is not the one the push recorded.
 */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

const tokenAnswer = z.looseObject({token: z.string().optional(), access_token: z.string().optional()})

const DEFAULT_TIMEOUT_MS = 10_000

/** How the registry let us in at `/v2/`. */
export interface RegistryAccess {
  /** The API address asked. */
  url: string
  /** `anonymous`: no credentials were needed (or none were found and the registry did not ask). */
  login: 'anonymous' | 'credentials'
}

export interface RegistryClientOptions {
  timeoutMs?: number
}

/**
 * The registry HTTP API v2, as far as a deploy needs it: is the registry there and does it take our
 * credentials, and which digest does a tag name. Authentication follows the registry's
 * `WWW-Authenticate` challenge: Basic, or Bearer with a token from the named realm (distribution's
 * token protocol; an identity token is exchanged through its OAuth2 form).
 */
export class RegistryClient {
  private readonly timeoutMs: number

  constructor(
    readonly address: RegistryAddress,
    private readonly credential: RegistryCredential | null,
    options: RegistryClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  /** `GET /v2/` through the login: throws RegistryUnreachableError or RegistryRefusedError. */
  async checkAccess(): Promise<RegistryAccess> {
    const url = registryApiBase(this.address)
    const {response, authenticated} = await this.request('GET', url, undefined, 'checking the login')
    if (!response.ok) throw this.unexpected(response.status, 'GET', url)
    return {url, login: authenticated ? 'credentials' : 'anonymous'}
  }

  /** The digest the registry holds for `repository:tag` (`sha256:…`), or null when it has no such tag. */
  async manifestDigest(repository: string, tag: string): Promise<string | null> {
    const url = `${registryApiBase(this.address)}${repository}/manifests/${encodeURIComponent(tag)}`
    const {response} = await this.request(
      'HEAD',
      url,
      `repository:${repository}:pull`,
      `reading the manifest of ${repository}:${tag}`,
      {Accept: MANIFEST_ACCEPT},
    )
    if (response.status === 404) return null
    if (!response.ok) throw this.unexpected(response.status, 'HEAD', url)
    const digest = response.headers.get('docker-content-digest')
    if (digest === null) {
      throw new PrerequisiteError(`registry ${this.address.host} sent no Docker-Content-Digest for ${url}`, {
        where: url,
        fix: 'use a registry that implements the Docker Registry HTTP API v2 (distribution, Harbor, a cloud registry)',
      })
    }
    return digest
  }

  /** One request, answered once more with credentials when the registry challenges it. */
  private async request(
    method: 'GET' | 'HEAD',
    url: string,
    scope: string | undefined,
    during: string,
    headers: Record<string, string> = {},
  ): Promise<{response: Response; authenticated: boolean}> {
    const first = await this.fetch(url, {method, headers})
    if (first.status !== 401) {
      if (first.status === 403) throw new RegistryRefusedError(this.address.host, 403, during, false)
      return {response: first, authenticated: false}
    }
    const authorization = await this.authorization(first.headers.get('www-authenticate'), scope, during)
    const second = await this.fetch(url, {method, headers: {...headers, Authorization: authorization}})
    if (second.status === 401 || second.status === 403)
      throw new RegistryRefusedError(this.address.host, second.status, during, true)
    return {response: second, authenticated: true}
  }

  /** The Authorization header that answers the registry's challenge. */
  private async authorization(
    header: string | null,
    scope: string | undefined,
    during: string,
  ): Promise<string> {
    const secret = this.credential?.reveal()
    const refused = (): RegistryRefusedError =>
      new RegistryRefusedError(this.address.host, 401, during, this.credential !== null)
    if (header === null) throw refused()
    const challenge = parseChallenge(header)
    const scheme = challenge.scheme.toLowerCase()
    if (scheme === 'basic') {
      if (secret?.kind !== 'password') throw refused()
      return `Basic ${Buffer.from(`${secret.username}:${secret.password}`).toString('base64')}`
    }
    const realm = param(challenge.params, 'realm')
    if (scheme !== 'bearer' || realm === undefined) throw refused()
    const service = param(challenge.params, 'service')
    const token = await this.bearerToken(realm, service, scope ?? param(challenge.params, 'scope'), during)
    return `Bearer ${token}`
  }

  /** A token from the realm: GET with Basic credentials (or none), or the OAuth2 POST for an identity token. */
  private async bearerToken(
    realm: string,
    service: string | undefined,
    scope: string | undefined,
    during: string,
  ): Promise<string> {
    const secret = this.credential?.reveal()
    let response: Response
    if (secret?.kind === 'identity-token') {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: secret.token,
        client_id: 'todo-deploy',
        ...(service === undefined ? {} : {service}),
        ...(scope === undefined ? {} : {scope}),
      })
      response = await this.fetch(realm, {method: 'POST', body: form})
    } else {
      const url = new URL(realm)
      if (service !== undefined) url.searchParams.set('service', service)
      if (scope !== undefined) url.searchParams.set('scope', scope)
      const headers: Record<string, string> =
        secret?.kind === 'password'
          ? {
              Authorization: `Basic ${Buffer.from(`${secret.username}:${secret.password}`).toString('base64')}`,
            }
          : {}
      response = await this.fetch(url.toString(), {method: 'GET', headers})
    }
    if (response.status === 401 || response.status === 403)
      throw new RegistryRefusedError(this.address.host, response.status, during, this.credential !== null)
    if (!response.ok) throw this.unexpected(response.status, 'GET', realm)
    const parsed = tokenAnswer.safeParse(await response.json().catch(() => null))
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined
    if (token === undefined) {
      throw new PrerequisiteError(`the token service of registry ${this.address.host} sent no token`, {
        where: realm,
        fix: `check the registry's token service, then log in again: \`docker login ${this.address.host}\``,
      })
    }
    return token
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, {...init, redirect: 'follow', signal: AbortSignal.timeout(this.timeoutMs)})
    } catch (error) {
      throw new RegistryUnreachableError(this.address, url, connectionFailure(error, this.timeoutMs), error)
    }
  }

  private unexpected(status: number, method: string, url: string): PrerequisiteError {
    return new PrerequisiteError(
      `registry ${this.address.host} answered HTTP ${status} to ${method} ${url}`,
      {
        where: url,
        fix: `check the registry's health and its logs; \`docker login ${this.address.host}\` if it needs a login`,
      },
    )
  }
}

function param(params: Record<string, string | string[]>, name: string): string | undefined {
  const value = params[name]
  return Array.isArray(value) ? value[0] : value
}
