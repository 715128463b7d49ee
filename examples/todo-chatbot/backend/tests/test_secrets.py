import logging

from fastapi.testclient import TestClient

from main import create_app
from settings import SECRET_KEYS, SecretValue, Settings

from fake_secrets import FAKE_SECRETS

FAKE = FAKE_SECRETS


def test_the_four_secret_keys_are_read_from_the_environment():
    settings = Settings.from_environ({**FAKE, "UNRELATED": "x"})
    assert sorted(settings.secrets) == sorted(SECRET_KEYS)
    assert {key: value.reveal() for key, value in settings.secrets.items()} == FAKE
    assert settings.missing == []


def test_no_secret_value_reaches_the_logs_or_the_output(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    client = TestClient(create_app(FAKE))
    client.get("/health")
    client.post("/api/todos", json={"title": "Buy milk"})
    client.get("/api/todos")
    client.patch("/api/todos/1", json={"done": True})
    client.patch("/api/todos/99", json={"done": True})
    client.post("/api/todos", json={"title": ""})

    captured = capsys.readouterr()
    everything = "\n".join([caplog.text, captured.out, captured.err])
    # The startup lines were written: the test would pass vacuously on an empty log otherwise.
    assert "secrets set: DATABASE_URL, JWT_SECRET, GEMINI_API_KEY, BETTER_AUTH_SECRET" in caplog.text
    assert "test-secret-value" not in everything
    assert "db.invalid" not in everything


def test_missing_secrets_are_named_in_a_warning_without_values(caplog):
    caplog.set_level(logging.INFO)
    create_app({"JWT_SECRET": "test-secret-value-jwt"})
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        "secrets missing: DATABASE_URL, GEMINI_API_KEY, BETTER_AUTH_SECRET"
        " (the chart passes them from the Secret todo-app-secrets)"
    ]
    assert "test-secret-value" not in caplog.text


def test_a_secret_prints_as_stars_wherever_it_is_formatted():
    secret = SecretValue("test-secret-value-jwt")
    settings = Settings.from_environ(FAKE)
    for text in (str(secret), repr(secret), f"{secret}", "%s" % secret, repr(settings)):
        assert "test-secret-value" not in text
    assert "***" in repr(settings)
