# Next.js 14 frontend (DATA-MODEL.md §1). Build context: the frontend app folder, with
# docker/frontend.dockerignore copied there as .dockerignore.

# --- builder: dev dependencies and the Next.js build stay here ---
FROM node:18-alpine AS builder
WORKDIR /app
# NEXT_PUBLIC_* variables are inlined into the browser bundle at build time, not read at run time.
ARG NEXT_PUBLIC_API_URL=http://todo-backend-service:8080
ENV NEXT_PUBLIC_API_URL=${NEXT_PUBLIC_API_URL} \
    NEXT_TELEMETRY_DISABLED=1
# The lockfile alone first: the npm ci layer is reused until dependencies change.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# public/ is optional in a Next.js app; the runtime stage copies it either way.
RUN mkdir -p public \
    && npm run build \
    && npm prune --omit=dev \
    && npm cache clean --force

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
