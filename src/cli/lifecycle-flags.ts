import {Flags} from '@oclif/core'

import {durationMs} from '../lib/config/load.js'
import {BadInputError} from '../lib/errors.js'

/** `--timeout 5m`: parsed here so a bad value is an exit-2 error naming the flag. */
export const timeoutFlag = Flags.custom<number>({
  summary: 'How long to wait for the rollout, e.g. 90s, 5m, 1h. Default: rollout.timeout (5m).',
  helpValue: 'DURATION',
  parse: async (input) => {
    if (!/^\d+(ms|s|m|h)$/.test(input) || durationMs(input) <= 0) {
      throw new BadInputError(`--timeout "${input}" is not a duration`, {where: '--timeout', fix: 'use a duration such as 90s, 5m or 1h'})
    }
    return durationMs(input)
  },
})

export function userAtHost(): string {
  const user = process.env.USER ?? process.env.USERNAME ?? 'unknown'
  return `${user}@${process.env.HOSTNAME ?? (process.platform === 'win32' ? process.env.COMPUTERNAME : undefined) ?? 'localhost'} pid ${process.pid}`
}
