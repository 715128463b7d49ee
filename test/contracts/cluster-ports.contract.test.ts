import {
  fakeRolloutSubject,
  fakeWorkloadSubject,
  realRolloutSubject,
  realWorkloadSubject,
} from '../support/cluster-contract-subjects.js'
import {rolloutWaiterContract, workloadSourceContract} from './cluster-ports.contract.js'

rolloutWaiterContract('FakeRolloutWaiter', fakeRolloutSubject)
rolloutWaiterContract('RolloutTracker over the replay API server', realRolloutSubject)
workloadSourceContract('FakeWorkloadSource', fakeWorkloadSubject)
workloadSourceContract('KubeWorkloadSource over the replay API server', realWorkloadSubject)
