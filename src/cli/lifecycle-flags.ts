import {Flags} from '@oclif/core'

import {inputExcerpt} from '../lib/config/input-excerpt.js'
import {MAX_DURATION_MS, parseDuration} from '../lib/config/schema.js'
import {BadInputError} from '../lib/errors.js'

/** `--timeout 5m`: parsed here so a bad value is an exit-2 error naming the flag. */
export const timeoutFlag = Flags.custom<number>({
  summary: 'How long to wait for the rollout, e.g. 90s, 5m, 1h. Default: rollout.timeout (5m).',
  helpValue: 'DURATION',
  parse: async (input) => {
    const ms = parseDuration(input)
    if (ms === undefined || ms <= 0) {
      throw new BadInputError(`--timeout "${inputExcerpt(input)}" is not a duration`, {
        where: '--timeout',
        fix: 'use a duration such as 90s, 5m or 1h',
      })
    }
    // Longer is a typo; and a Node timer past ~24.8 days fires at once instead of waiting.
    if (ms > MAX_DURATION_MS) {
      throw new BadInputError(`--timeout "${inputExcerpt(input)}" is longer than 24h`, {
        where: '--timeout',
        fix: 'use a duration of at most 24h, such as 10m',
      })
    }
    return ms
  },
})

export function userAtHost(): string {
  const user = process.env.USER ?? process.env.USERNAME ?? 'unknown'
  return `${user}@${process.env.HOSTNAME ?? (process.platform === 'win32' ? process.env.COMPUTERNAME : undefined) ?? 'localhost'} pid ${process.pid}`
}
