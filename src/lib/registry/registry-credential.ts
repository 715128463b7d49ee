import {inspect} from 'node:util'

const REDACTED = '[redacted]'

/** What a registry login is made of: a user and password, or an identity token (an OAuth refresh token). */
export type CredentialSecret =
  {kind: 'password'; username: string; password: string} | {kind: 'identity-token'; token: string}

/**
 * Credentials for one registry, read from the Docker config or a credential helper. Like SecretValue,
 * it shows `[redacted]` when printed, logged, interpolated or serialised; `reveal()` is called only
 * where the credentials go to the registry, the Docker Engine or the pull Secret.
 */
export class RegistryCredential {
  readonly #secret: CredentialSecret

  constructor(
    /** The registry host the credentials are for. */
    readonly host: string,
    /** Where they came from: `docker-credential-pass`, or the Docker config file (no value). */
    readonly source: string,
    secret: CredentialSecret,
  ) {
    this.#secret = secret
  }

  reveal(): CredentialSecret {
    return this.#secret
  }

  /** As a build's session hands it to BuildKit: an identity token is the secret, with no user. */
  forBuild(): {username: string; secret: string} {
    const secret = this.#secret
    return secret.kind === 'password'
      ? {username: secret.username, secret: secret.password}
      : {username: '', secret: secret.token}
  }

  /** `text` with every part of the credentials replaced, for any message built from a remote answer. */
  scrub(text: string): string {
    const secret = this.#secret
    const parts = secret.kind === 'password' ? [secret.password, secret.username] : [secret.token]
    const encoded =
      secret.kind === 'password'
        ? [Buffer.from(`${secret.username}:${secret.password}`).toString('base64')]
        : []
    return [...encoded, ...parts]
      .filter((part) => part.length >= 3)
      .reduce((result, part) => result.split(part).join(REDACTED), text)
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return `RegistryCredential(${this.host} from ${this.source}: ${REDACTED})`
  }

  [Symbol.toPrimitive](): string {
    return REDACTED
  }
}
