import {randomBytes} from 'node:crypto'
import {rm} from 'node:fs/promises'

import {execa} from 'execa'

import type {SyncTarget} from '../../src/lib/kube/container-file-sync.js'
import {busyboxContext} from './docker-fixtures.js'

/** BusyBox with every applet, user `app` (1000) owning /app, and a root-owned /srv: a non-root dev image. */
export const SYNC_POD_DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /etc /app /srv/www /tmp && echo 'app:x:1000:1000::/app:/bin/sh' > /etc/passwd && echo 'app:x:1000:' > /etc/group && chown 1000:1000 /app"]
USER 1000
CMD ["sleep", "86400"]
`

/**
 * No shell and no tar, as a distroless image (BusyBox's own sh runs its tar applet whatever PATH says,
 * so an image with BusyBox's sh always has tar): busybox is there only as `sleep`.
 */
export const NO_SHELL_DOCKERFILE = `FROM scratch
COPY busybox /bin/sleep
CMD ["/bin/sleep", "86400"]
`

export interface SyncPodSpec {
  name: string
  /** A container without a shell (and so without tar). */
  noShell?: boolean
}

/**
 * Pods to sync into on a real cluster, in a namespace of their own (`<prefix>-<random>`): the images
 * are built from the static busybox with the local Docker Engine and loaded with `minikube image
 * load`, so no registry or network is needed. Used by the live-sync e2e test and bench.
 */
export class SyncPods {
  private constructor(
    readonly namespace: string,
    private readonly kubectlArgs: (args: string[]) => string[],
    private readonly kubectlPath: string,
    private readonly images: string[],
  ) {}

  static async start(options: {
    kubectl: string
    context: string
    prefix: string
    pods: SyncPodSpec[]
  }): Promise<SyncPods> {
    const run = randomBytes(3).toString('hex')
    const images = {
      sync: `${options.prefix}-busybox-sync:${run}`,
      noShell: `${options.prefix}-no-shell:${run}`,
    }
    const pods = new SyncPods(
      `${options.prefix}-live-sync-${run}`,
      (args) => ['--context', options.context, ...args],
      options.kubectl,
      Object.values(images),
    )
    for (const [image, dockerfile] of [
      [images.sync, SYNC_POD_DOCKERFILE],
      [images.noShell, NO_SHELL_DOCKERFILE],
    ] as const) {
      const context = await busyboxContext({Dockerfile: dockerfile})
      try {
        // No cache: an image built on a cached layer of another test's image would block its removal.
        await execa('docker', ['build', '-q', '--no-cache', '-t', image, context])
        await execa('minikube', ['image', 'load', image], {timeout: 300_000})
      } finally {
        await rm(context, {recursive: true, force: true})
      }
    }
    await pods.kubectl(['create', 'namespace', pods.namespace])
    for (const spec of options.pods) {
      const manifest = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {name: spec.name, namespace: pods.namespace},
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [
            {name: 'app', image: spec.noShell ? images.noShell : images.sync, imagePullPolicy: 'Never'},
          ],
        },
      }
      await pods.kubectl(['apply', '-f', '-'], JSON.stringify(manifest))
    }
    await pods.kubectl([
      'wait',
      '-n',
      pods.namespace,
      '--for=condition=Ready',
      'pod',
      '--all',
      '--timeout=180s',
    ])
    return pods
  }

  target(pod: string): SyncTarget {
    return {namespace: this.namespace, pod, container: 'app'}
  }

  /** Runs a shell script in the pod's container (kubectl exec) and returns its stdout. */
  async inPod(pod: string, script: string): Promise<string> {
    return (await this.kubectl(['exec', '-n', this.namespace, pod, '-c', 'app', '--', 'sh', '-c', script]))
      .stdout
  }

  async stop(): Promise<void> {
    await this.kubectl(['delete', 'namespace', this.namespace, '--wait=false']).catch(() => undefined)
    for (const image of this.images) {
      await execa('minikube', ['image', 'rm', image], {reject: false})
      await execa('docker', ['rmi', image], {reject: false})
    }
  }

  private kubectl(args: string[], input?: string) {
    return execa(this.kubectlPath, this.kubectlArgs(args), {input, timeout: 120_000})
  }
}
