"""Fake values of the four secret keys: a test fails when any of them shows up in output."""
FAKE_SECRETS = {
    "DATABASE_URL": "postgresql://todo:test-secret-value-db@db.invalid:5432/todo",
    "JWT_SECRET": "test-secret-value-jwt",
    "GEMINI_API_KEY": "test-secret-value-gemini",
    "BETTER_AUTH_SECRET": "test-secret-value-auth",
}
