import TodoApp from './todo-app.jsx'

export default function Page() {
  return (
    <main>
      <h1>Todos</h1>
      <TodoApp />
    </main>
  )
}
