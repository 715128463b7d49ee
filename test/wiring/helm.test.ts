import {describe, expect, it} from 'vitest'

import {HelmCli} from '../../src/lib/helm/helm-cli.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {HELM_MAJORS, helmBinary} from '../support/helm-binaries.js'

describe('wiring: the helm binaries of the npm layer packages', () => {
  it.each(HELM_MAJORS)(
    'helm %s answers `helm version` through HelmCli and the real runner',
    async (major) => {
      const version = await new HelmCli(new ExecaProcessRunner(), {binary: helmBinary(major)}).version()
      expect(`v${version.major}`).toBe(major)
    },
  )
})
