import {HELM_MAJORS} from '../support/helm-binaries.js'
import {fakeHelmSubject, realHelmSubject} from '../support/helm-contract-subjects.js'
import {helmClientContract} from './helm-client.contract.js'

helmClientContract('FakeHelm', fakeHelmSubject)
for (const major of HELM_MAJORS)
  helmClientContract(`real helm ${major} over the fake API server`, () => realHelmSubject(major))
