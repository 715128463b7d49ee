"""The backend's settings: the four secret keys the chart passes from the Secret todo-app-secrets."""
import logging
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional

SECRET_KEYS = ("DATABASE_URL", "JWT_SECRET", "GEMINI_API_KEY", "BETTER_AUTH_SECRET")

logger = logging.getLogger("todo_backend")


class SecretValue:
    """A secret that prints as *** wherever it ends up: a log line, an f-string, a traceback's repr."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    secrets: Dict[str, SecretValue]

    @classmethod
    def from_environ(cls, environ: Optional[Mapping[str, str]] = None) -> "Settings":
        source = os.environ if environ is None else environ
        return cls({key: SecretValue(source[key]) for key in SECRET_KEYS if source.get(key)})

    @property
    def missing(self) -> List[str]:
        return [key for key in SECRET_KEYS if key not in self.secrets]


def configure_logging() -> None:
    """uvicorn configures only its own loggers: without a handler, this one's INFO lines would be lost."""
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def log_settings(settings: Settings) -> None:
    """Names only, never a value."""
    present = [key for key in SECRET_KEYS if key in settings.secrets]
    logger.info("secrets set: %s", ", ".join(present) or "none")
    if settings.missing:
        logger.warning(
            "secrets missing: %s (the chart passes them from the Secret todo-app-secrets)",
            ", ".join(settings.missing),
        )
    if "DATABASE_URL" in settings.secrets:
        logger.info("DATABASE_URL is set; this example keeps its todos in memory all the same")
