import {describe} from 'vitest'

/**
 * The e2e suite deploys to the cluster of the current kube context, so it runs only when asked:
 * `TODO_DEPLOY_E2E=1 npm run test:e2e`. Without it every test is skipped (exit 0); with it, a cluster
 * that cannot be reached fails the run at once (see ClusterTools.connect), it is never skipped.
 */
export const E2E_ENABLED = process.env.TODO_DEPLOY_E2E === '1'

export const describeOnCluster = describe.skipIf(!E2E_ENABLED)

/**
 * The registry variant also needs `TODO_DEPLOY_E2E_REGISTRY=host:port`: a registry the cluster's nodes
 * can pull from (kind's local registry, minikube's registry addon, a team registry), and that the
 * Docker config on this machine can push to. Without it the registry flow is skipped.
 */
export const E2E_REGISTRY = process.env.TODO_DEPLOY_E2E_REGISTRY || undefined

export const describeOnClusterWithRegistry = describe.skipIf(!E2E_ENABLED || E2E_REGISTRY === undefined)
