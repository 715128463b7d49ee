import {HELM_MAJORS} from '../support/helm-binaries.js'
import {fakeHelmSubject, realHelmSubject, storeBackedHelmSubject} from '../support/helm-contract-subjects.js'
import {helmClientContract} from './helm-client.contract.js'

helmClientContract('FakeHelm', fakeHelmSubject)
for (const major of HELM_MAJORS)
  helmClientContract(`real helm ${major} over the fake API server`, () => realHelmSubject(major))
for (const major of HELM_MAJORS)
  helmClientContract(`real helm ${major} writing, HelmReleaseStore reading`, () =>
    storeBackedHelmSubject(major),
  )
