import {it} from 'vitest'

import {describeOperation} from '../support/sequence/app-model.js'
import {generateSequence} from '../support/sequence/operations.js'
import {seedFrom} from '../support/sequence/seeded-random.js'
import {playSequence, replayHint} from '../support/sequence/sequence-runner.js'
import {ClusterSequenceWorld} from './support/cluster-sequence-world.js'
import {useE2eSession} from './support/e2e-session.js'
import {describeOnCluster} from './support/opt-in.js'

const SEED = seedFrom(process.env.TODO_DEPLOY_SEQ_SEED)
const OPERATIONS = Number(process.env.TODO_DEPLOY_SEQ_OPS ?? 40)

/**
 * Issue 19: commands back to back as people run them, on a real (eventually consistent) cluster, each
 * checked against the model of test/support/sequence: exit code, what 20 GETs get right after a deploy,
 * helm's revision, the pods, nothing left after a purge, no secret printed. The seed is printed first;
 * TODO_DEPLOY_SEQ_SEED (and TODO_DEPLOY_SEQ_OPS) replay the same sequence; TODO_DEPLOY_SEQ_KEEP_GOING=1
 * plays past a wrong step and lists every one at the end.
 */
describeOnCluster('a seeded random sequence of commands on a real cluster', () => {
  const session = useE2eSession()

  it(`${OPERATIONS} operations from seed ${SEED} match the model`, async () => {
    const operations = generateSequence(SEED, OPERATIONS)
    console.log(`sequence seed ${SEED} (${replayHint(SEED, OPERATIONS)})`)
    console.log(`sequence: ${operations.map(describeOperation).join(' → ')}`)
    const {tools, project, cli} = session
    await playSequence(new ClusterSequenceWorld(tools, project, cli), {
      seed: SEED,
      operations,
      secrets: project.secrets,
      onStep: (line) => console.log(line),
      keepGoing: process.env.TODO_DEPLOY_SEQ_KEEP_GOING === '1',
    })
  })
})
