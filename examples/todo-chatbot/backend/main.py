"""The Todo Chatbot's FastAPI backend: `uvicorn main:app` (the backend Dockerfile's default APP_MODULE)."""
from typing import List, Mapping, Optional

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field, StrictStr

from settings import Settings, configure_logging, log_settings
from store import InMemoryTodoStore, Todo

TITLE_MAX_LENGTH = 200


class NewTodo(BaseModel):
    # Strict: pydantic 1 (the tests here) would turn 5 into "5"; pydantic 2 (the image) refuses it.
    title: StrictStr = Field(..., max_length=TITLE_MAX_LENGTH)


class TodoUpdate(BaseModel):
    done: bool


def create_app(environ: Optional[Mapping[str, str]] = None) -> FastAPI:
    configure_logging()
    settings = Settings.from_environ(environ)
    log_settings(settings)
    store = InMemoryTodoStore()
    app = FastAPI(title="Todo Chatbot backend")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "store": store.kind}

    @app.get("/api/todos", response_model=List[Todo])
    def list_todos() -> List[Todo]:
        return store.list()

    @app.post("/api/todos", response_model=Todo, status_code=201)
    def add_todo(new: NewTodo) -> Todo:
        title = new.title.strip()
        if not title:
            raise HTTPException(status_code=422, detail="title must not be empty")
        return store.add(title)

    @app.patch("/api/todos/{todo_id}", response_model=Todo)
    def update_todo(todo_id: int, update: TodoUpdate) -> Todo:
        todo = store.set_done(todo_id, update.done)
        if todo is None:
            raise HTTPException(status_code=404, detail=f"todo {todo_id} not found")
        return todo

    return app


app = create_app()
