// Mocha's settings. `npx mocha FILE...` runs just those files; without any, the whole suite
// (`npm test`). A `spec` in the config would be added to the files given on the command line.
const files = process.argv.slice(2).filter((arg) => /\.test\.ts$/.test(arg))

module.exports = {
  'node-option': ['import=tsx'],
  recursive: true,
  reporter: 'spec',
  require: ['test/setup.ts', 'test/outputs.ts'],
  timeout: 60_000,
  ...(files.length > 0 ? {} : {spec: ['test/**/*.test.ts', 'emulator/**/*.test.ts']}),
}
