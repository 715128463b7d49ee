# Next.js 14 frontend (DATA-MODEL.md §1). Build context: the frontend app folder, with
# docker/frontend.dockerignore copied there as .dockerignore.
# Stages: `runtime` (the last, what `up` and a plain `docker build` make) and `dev` (what
# `todo-deploy dev` builds: `next dev` over source files the app user may overwrite).

# --- deps: every dependency, from the lockfile alone (reused until dependencies change) ---
FROM node:18-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci

# --- builder: dev dependencies and the Next.js build stay here ---
FROM deps AS builder
# NEXT_PUBLIC_* variables are inlined into the browser bundle at build time, not read at run time.
ARG NEXT_PUBLIC_API_URL=http://todo-backend-service:8080
ENV NEXT_PUBLIC_API_URL=${NEXT_PUBLIC_API_URL} \
    NEXT_TELEMETRY_DISABLED=1
COPY . .
# public/ is optional in a Next.js app; the runtime stage copies it either way.
RUN mkdir -p public \
    && npm run build \
    && npm prune --omit=dev \
    && npm cache clean --force

# --- dev: `next dev` over the sources; /app and the sources belong to the app user, so live sync
# can overwrite files and create folders, and Next.js can write .next/ ---
FROM node:18-alpine AS dev
WORKDIR /app
ARG NEXT_PUBLIC_API_URL=http://todo-backend-service:8080
ENV NEXT_PUBLIC_API_URL=${NEXT_PUBLIC_API_URL} \
    NEXT_TELEMETRY_DISABLED=1 \
    PORT=3000
RUN addgroup -S -g 1001 nodejs \
    && adduser -S -u 1001 -G nodejs nextjs \
    && chown 1001:1001 /app
COPY --from=deps --chown=1001:1001 /app/node_modules ./node_modules
COPY --chown=1001:1001 . .
USER 1001:1001
EXPOSE 3000
# The chart's ConfigMap sets NODE_ENV=production, which `next dev` refuses to serve correctly.
CMD ["sh", "-c", "NODE_ENV=development exec node_modules/.bin/next dev -p 3000"]

# --- runtime: production node_modules, the build output, a non-root user ---
FROM node:18-alpine AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    PORT=3000
RUN addgroup -S -g 1001 nodejs \
    && adduser -S -u 1001 -G nodejs nextjs
COPY --from=builder --chown=1001:1001 /app/package.json ./package.json
COPY --from=builder --chown=1001:1001 /app/node_modules ./node_modules
COPY --from=builder --chown=1001:1001 /app/.next ./.next
COPY --from=builder --chown=1001:1001 /app/public ./public
# nextjs:nodejs by number, so Kubernetes runAsNonRoot can verify it.
USER 1001:1001
EXPOSE 3000
# busybox wget is part of alpine: no extra package needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD wget -qO- http://127.0.0.1:3000/ > /dev/null || exit 1
# next itself as PID 1 (not npm) so SIGTERM reaches the server on rolling updates.
CMD ["node_modules/.bin/next", "start", "-p", "3000"]
