"""What the backend image (python:3.9-alpine, `uvicorn main:app`) needs from this folder."""
import ast
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

from fake_secrets import FAKE_SECRETS

BACKEND = pathlib.Path(__file__).resolve().parent.parent


def test_every_module_is_python_3_9_syntax():
    sources = sorted(BACKEND.glob("*.py"))
    assert [path.name for path in sources] == ["main.py", "settings.py", "store.py"]
    for path in sources:
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))


def test_no_annotation_needs_python_3_10_at_run_time():
    # `X | None` and `list[str]` parse on 3.9 but fail when pydantic or FastAPI evaluate them there.
    for path in sorted(BACKEND.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            annotation = getattr(node, "annotation", None) or getattr(node, "returns", None)
            if annotation is None:
                continue
            for part in ast.walk(annotation):
                assert not isinstance(part, ast.BinOp), f"{path.name}:{part.lineno} uses X | Y"
                if isinstance(part, ast.Subscript) and isinstance(part.value, ast.Name):
                    assert part.value.id not in {"list", "dict", "tuple", "set"}, (
                        f"{path.name}:{part.lineno} uses {part.value.id}[...]; use typing's"
                    )


def test_requirements_name_what_uvicorn_main_app_imports():
    requirements = [
        line.split(">")[0].split("=")[0].split("<")[0].strip()
        for line in (BACKEND / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements == ["fastapi", "uvicorn"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_uvicorn_serves_main_app_as_the_dockerfile_cmd_starts_it():
    # The image runs `uvicorn "$APP_MODULE" --host 0.0.0.0 --port "$PORT"` in /app with APP_MODULE=main:app
    # and PORT=8080; here on loopback and a free port, with the Secret's keys in the environment.
    port = _free_port()
    environ = {**os.environ, **FAKE_SECRETS, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=BACKEND,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, "uvicorn exited before it answered"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    assert response.status == 200
                    assert json.load(response) == {"status": "ok", "store": "memory"}
                    break
            except OSError:
                assert time.monotonic() < deadline, "uvicorn did not answer within 30 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "secrets set: DATABASE_URL, JWT_SECRET, GEMINI_API_KEY, BETTER_AUTH_SECRET" in output
    assert "test-secret-value" not in output
