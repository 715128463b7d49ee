# FastAPI backend (DATA-MODEL.md §1). Build context: the backend app folder, with
# docker/backend.dockerignore copied there as .dockerignore.
#   --build-arg APP_MODULE=<module>:<app>  the ASGI application (default main:app)
#   --build-arg PORT=8000                  spec B's port (default 8080)
# Stages: `runtime` (the last, what `up` and a plain `docker build` make) and `dev` (what
# `todo-deploy dev` builds: uvicorn --reload over source files the app user may overwrite).

# --- builder: compilers for wheels that build from source stay here ---
FROM python:3.9-alpine AS builder
RUN apk add --no-cache gcc musl-dev libffi-dev
WORKDIR /build
COPY requirements.txt .
RUN pip install --user --no-cache-dir --no-warn-script-location -r requirements.txt

# --- app: the installed packages and the app code owned by a non-root user (dev and runtime) ---
FROM python:3.9-alpine AS app
ARG APP_MODULE=main:app
ARG PORT=8080
ENV APP_MODULE=${APP_MODULE} \
    PORT=${PORT} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONUSERBASE=/home/fastapi/.local \
    PATH=/home/fastapi/.local/bin:$PATH
RUN addgroup -S -g 1001 python \
    && adduser -S -u 1001 -G python -h /home/fastapi fastapi
COPY --from=builder --chown=1001:1001 /root/.local /home/fastapi/.local
WORKDIR /app
COPY --chown=1001:1001 . .

# --- dev: live sync writes into /app (new files and folders too), uvicorn reloads on each change ---
FROM app AS dev
RUN chown 1001:1001 /app
USER 1001:1001
EXPOSE ${PORT}
CMD ["sh", "-c", "exec uvicorn \"$APP_MODULE\" --host 0.0.0.0 --port \"$PORT\" --reload --reload-dir /app"]

# --- runtime: the production image ---
FROM app AS runtime
# fastapi:python by number, so Kubernetes runAsNonRoot can verify it.
USER 1001:1001
EXPOSE ${PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD wget -qO- "http://127.0.0.1:${PORT}/health" > /dev/null || exit 1
# exec: uvicorn replaces the shell as PID 1 and receives SIGTERM; sh expands the module and port.
CMD ["sh", "-c", "exec uvicorn \"$APP_MODULE\" --host 0.0.0.0 --port \"$PORT\""]
