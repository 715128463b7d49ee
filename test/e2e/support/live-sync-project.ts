import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {E2eProject} from './e2e-project.js'

/** BusyBox applets on PATH (`sh`, `tar`, `head`, `id`: what a live sync runs) and a user 1001 named `app`. */
const DEV_SHELL = `RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /etc && echo 'app:x:1001:1001::/www:/bin/sh' > /etc/passwd && echo 'app:x:1001:' > /etc/group"]`

/**
 * The frontend: a `dev` stage whose /www belongs to the container user (so dev syncs into it), and a
 * production stage as the suite's fixture. `plain/` is copied too but no sync rule covers it: an edit
 * there is a rebuild, the baseline a synced edit is compared with.
 */
const FRONTEND_DOCKERFILE = `# e2e fixture of dev live sync (issue 20): busybox httpd serves /www.
FROM scratch AS dev
COPY busybox /bin/busybox
${DEV_SHELL}
COPY www /www
COPY plain /www/plain
RUN ["/bin/busybox", "chown", "-R", "1001:1001", "/www"]
USER 1001
EXPOSE 3000
CMD ["/bin/busybox", "httpd", "-f", "-vv", "-p", "3000", "-h", "/www"]

FROM scratch
COPY busybox /bin/busybox
COPY www /www
COPY plain /www/plain
USER 1001
EXPOSE 3000
CMD ["/bin/busybox", "httpd", "-f", "-vv", "-p", "3000", "-h", "/www"]
`

/** The backend: its `dev` stage has a shell and tar, but /www stays root's: a sync there cannot work. */
const BACKEND_DOCKERFILE = `# e2e fixture of dev live sync (issue 20): the sync target /www is not the container user's.
FROM scratch AS dev
COPY busybox /bin/busybox
${DEV_SHELL}
COPY www /www
USER 1001
EXPOSE 8080
CMD ["/bin/busybox", "httpd", "-f", "-vv", "-p", "8080", "-h", "/www"]

FROM scratch
COPY busybox /bin/busybox
COPY www /www
USER 1001
EXPOSE 8080
CMD ["/bin/busybox", "httpd", "-f", "-vv", "-p", "8080", "-h", "/www"]
`

/**
 * Turns an E2eProject into one for `dev` live sync: both services sync `www` to `/www`, the frontend
 * with `replicas` pods (a sync goes to each), the backend into a folder its user cannot write.
 */
export function makeLiveSyncProject(project: E2eProject, options: {frontendReplicas?: number} = {}): void {
  writeFileSync(path.join(project.dir, 'frontend', 'Dockerfile'), FRONTEND_DOCKERFILE)
  writeFileSync(path.join(project.dir, 'backend', 'Dockerfile'), BACKEND_DOCKERFILE)
  writePlainPage(project, 'v1')
  project.setServiceConfig('frontend', {
    replicas: options.frontendReplicas ?? 2,
    sync: [{from: 'www', to: '/www'}],
  })
  project.setServiceConfig('backend', {sync: [{from: 'www', to: '/www'}]})
}

/** Writes `frontend/<relative>` (folders included); under `www/` it is served at `/<rest>`. */
export function writeFrontendFile(project: E2eProject, relative: string, content: string): void {
  const file = path.join(project.dir, 'frontend', relative)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, content)
}

/** `frontend/plain/page.html`, served at `/plain/page.html`; no rule covers it, so an edit rebuilds. */
export function writePlainPage(project: E2eProject, version: string): void {
  writeFrontendFile(project, 'plain/page.html', `plain page ${version}\n`)
}
