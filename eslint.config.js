import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/', '.tools/', '.cache/', 'test/fixtures/', '**/.next/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', URL: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      'no-console': 'off',
    },
  },
  {
    // The example app's frontend: plain JavaScript and JSX run by Next.js (server) and the browser.
    files: ['examples/todo-chatbot/frontend/**/*.{js,mjs,jsx}'],
    languageOptions: {
      parserOptions: {ecmaFeatures: {jsx: true}},
      globals: {
        fetch: 'readonly',
        Request: 'readonly',
        Response: 'readonly',
        AbortSignal: 'readonly',
        setTimeout: 'readonly',
      },
    },
  },
)
