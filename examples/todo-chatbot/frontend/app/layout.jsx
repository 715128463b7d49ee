import './globals.css'

export const metadata = {
  title: 'Todo Chatbot',
  description: 'The example app deployed by todo-deploy',
}

export default function RootLayout({children}) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
