"""Todos in memory: one list per backend process, gone when the pod restarts."""
import threading
from typing import Dict, List, Optional

from pydantic import BaseModel


class Todo(BaseModel):
    id: int
    title: str
    done: bool


class InMemoryTodoStore:
    kind = "memory"

    def __init__(self) -> None:
        # Plain dicts inside, a fresh Todo out: a caller cannot change the stored one.
        self._todos: Dict[int, dict] = {}
        self._next_id = 1
        # uvicorn runs plain `def` routes on a thread pool.
        self._lock = threading.Lock()

    def list(self) -> List[Todo]:
        with self._lock:
            return [Todo(**todo) for todo in self._todos.values()]

    def add(self, title: str) -> Todo:
        with self._lock:
            todo = {"id": self._next_id, "title": title, "done": False}
            self._todos[todo["id"]] = todo
            self._next_id += 1
            return Todo(**todo)

    def set_done(self, todo_id: int, done: bool) -> Optional[Todo]:
        with self._lock:
            todo = self._todos.get(todo_id)
            if todo is None:
                return None
            todo["done"] = done
            return Todo(**todo)
