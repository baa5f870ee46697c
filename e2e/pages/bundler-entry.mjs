// What an application would write: import the package by name and let the bundler resolve it.
export * from '@wsmp/client'
