import pytest
from fastapi.testclient import TestClient

from main import create_app


@pytest.fixture
def client():
    return TestClient(create_app({}))


def test_health_answers_ok_and_names_the_store(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "memory"}


def test_a_new_backend_has_no_todos(client):
    response = client.get("/api/todos")
    assert response.status_code == 200
    assert response.json() == []


def test_added_todos_are_listed_in_order_with_trimmed_titles(client):
    first = client.post("/api/todos", json={"title": "  Buy milk  "})
    second = client.post("/api/todos", json={"title": "Deploy"})
    assert first.status_code == 201
    assert first.json() == {"id": 1, "title": "Buy milk", "done": False}
    assert second.json() == {"id": 2, "title": "Deploy", "done": False}
    assert client.get("/api/todos").json() == [first.json(), second.json()]


def test_patch_completes_a_todo_and_can_reopen_it(client):
    client.post("/api/todos", json={"title": "Buy milk"})
    done = client.patch("/api/todos/1", json={"done": True})
    assert done.status_code == 200
    assert done.json() == {"id": 1, "title": "Buy milk", "done": True}
    assert client.get("/api/todos").json()[0]["done"] is True
    assert client.patch("/api/todos/1", json={"done": False}).json()["done"] is False


def test_patch_of_an_unknown_todo_is_404_naming_it(client):
    response = client.patch("/api/todos/42", json={"done": True})
    assert response.status_code == 404
    assert response.json() == {"detail": "todo 42 not found"}


@pytest.mark.parametrize(
    "body",
    [{}, {"title": "   "}, {"title": "x" * 201}, {"title": 5}],
    ids=["no title", "blank title", "too long", "not a string"],
)
def test_a_bad_new_todo_is_refused_with_422_and_not_stored(client, body):
    assert client.post("/api/todos", json=body).status_code == 422
    assert client.get("/api/todos").json() == []


def test_patch_without_done_is_422(client):
    client.post("/api/todos", json={"title": "Buy milk"})
    assert client.patch("/api/todos/1", json={}).status_code == 422
    assert client.get("/api/todos").json()[0]["done"] is False


def test_each_app_has_its_own_store():
    first, second = TestClient(create_app({})), TestClient(create_app({}))
    first.post("/api/todos", json={"title": "only here"})
    assert second.get("/api/todos").json() == []
