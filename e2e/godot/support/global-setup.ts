// Says once, before any godot-live test, which engine runs the suite or why it is skipped.
import { godotBin, godotMissing } from './godot.js'

export default function setup(): void {
  if (godotMissing) console.log(`godot-live: SKIPPED — ${godotMissing}`)
  else console.log(`godot-live: engine ${godotBin}`)
}
