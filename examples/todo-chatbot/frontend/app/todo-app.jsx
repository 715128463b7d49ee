'use client'

import {useEffect, useState} from 'react'

import {addTodo, listTodos, setDone} from '../lib/todos-api.js'

export default function TodoApp() {
  // null until the first answer: "Loading…" rather than a misleading "No todos yet".
  const [todos, setTodos] = useState(null)
  const [title, setTitle] = useState('')
  const [error, setError] = useState(null)
  const [saving, setSaving] = useState(false)

  useEffect(() => {
    let current = true
    listTodos()
      .then((loaded) => current && setTodos(loaded))
      .catch((failure) => current && setError(`Could not load the todos: ${failure.message}`))
    return () => {
      current = false
    }
  }, [])

  async function onAdd(event) {
    event.preventDefault()
    const trimmed = title.trim()
    if (trimmed === '') return
    setSaving(true)
    try {
      const created = await addTodo(trimmed)
      setTodos((previous) => [...(previous ?? []), created])
      setTitle('')
      setError(null)
    } catch (failure) {
      setError(`Could not add "${trimmed}": ${failure.message}`)
    } finally {
      setSaving(false)
    }
  }

  async function onToggle(todo) {
    try {
      const updated = await setDone(todo.id, !todo.done)
      setTodos((previous) => previous.map((item) => (item.id === updated.id ? updated : item)))
      setError(null)
    } catch (failure) {
      setError(`Could not update "${todo.title}": ${failure.message}`)
    }
  }

  return (
    <section>
      <form onSubmit={onAdd}>
        <input
          type="text"
          aria-label="New todo"
          placeholder="What needs doing?"
          maxLength={200}
          value={title}
          onChange={(event) => setTitle(event.target.value)}
        />
        <button type="submit" disabled={saving || title.trim() === ''}>
          Add
        </button>
      </form>
      {error && <p role="alert">{error}</p>}
      {todos === null && !error && <p>Loading…</p>}
      {todos !== null && todos.length === 0 && <p>No todos yet.</p>}
      {todos !== null && todos.length > 0 && (
        <ul aria-label="Todos">
          {todos.map((todo) => (
            <li key={todo.id} className={todo.done ? 'done' : undefined}>
              <label>
                <input type="checkbox" checked={todo.done} onChange={() => onToggle(todo)} /> {todo.title}
              </label>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
