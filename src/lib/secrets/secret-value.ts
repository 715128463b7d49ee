import {inspect} from 'node:util'

const REDACTED = '[redacted]'

/**
 * A resolved secret. The value is reachable only through `reveal()`; printing, logging, string
 * interpolation and JSON serialisation all show `[redacted]`, so a secret cannot leak by accident.
 */
export class SecretValue {
  readonly #value: string

  constructor(
    readonly name: string,
    value: string,
    readonly source: 'environment' | 'dotenv',
  ) {
    this.#value = value
  }

  /** The only way to read the value: call it where the value goes to the Kubernetes Secret, nowhere else. */
  reveal(): string {
    return this.#value
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return `SecretValue(${this.name}: ${REDACTED})`
  }

  [Symbol.toPrimitive](): string {
    return REDACTED
  }
}
