// Loaded before every godot-live test file: after each test, every wsmp peer and every engine
// process that test started is closed (engines by their own pid).
import { afterEach } from 'vitest'
import { stopGodots } from './godot.js'
import { stopWsmps } from './wsmp.js'

afterEach(async () => {
  stopWsmps()
  await stopGodots()
})
