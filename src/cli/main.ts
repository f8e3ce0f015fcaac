import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { runDemo } from '../demo/run.js'
import { faultSummary, reportFaultsTo } from '../faults.js'

/** The package's version, from the package.json beside dist/. */
async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

const USAGE = `Usage: cylestio-monitor <command> [options]   (--version prints the version)

Commands:
  demo [--live] [--agent ID]     run a monitored Anthropic client against a local server (or the real API)
  events [filters]               list recorded events (--channel --type --agent --since --until --limit --json --follow --file)
  stats [--json] [--file F]      calls, blocks, errors, tokens and latency per agent and model
  rules lint|test|check [...]    validate rule files, run their tests, or check which rules fire on a text
                                 (cylestio-monitor rules --help shows their options)

Events go to $CYLESTIO_EVENTS_FILE, else ./cylestio-events.jsonl.`

const DEMO_USAGE = `Usage: cylestio-monitor demo [--live] [--agent ID]

Runs a monitored Anthropic client against a local server (with --live, the real API; it needs
ANTHROPIC_API_KEY) and prints the events it recorded, to $CYLESTIO_EVENTS_FILE, else ./cylestio-events.jsonl.`

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'demo': {
      let values: { live?: boolean; agent?: string; help?: boolean }
      try {
        ;({ values } = parseArgs({ args: rest, options: { live: { type: 'boolean' }, agent: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }))
      } catch (error) {
        process.stderr.write(`cylestio-monitor demo: ${(error as Error).message}\n\n${DEMO_USAGE}\n`)
        return 2
      }
      if (values.help) {
        process.stdout.write(`${DEMO_USAGE}\n`)
        return 0
      }
      if (values.agent === '') {
        process.stderr.write(`cylestio-monitor demo: --agent needs an agent id\n\n${DEMO_USAGE}\n`)
        return 2
      }
      return runDemo({ live: values.live === true, agentId: values.agent ?? 'demo-agent', out: (line) => process.stdout.write(`${line}\n`) })
    }
    case 'events':
    case 'stats': {
      // Bad lines of the log are reported to the user of the command, each (up to ten of a kind), in its terms.
      reportFaultsTo(process.stderr)
      const commands = await import('./events.js')
      const code = await (command === 'events' ? commands.eventsCommand(rest) : commands.statsCommand(rest))
      process.stderr.write(faultSummary())
      return code
    }
    case 'rules':
      return (await import('./rules.js')).rulesCommand(rest)
    case '--version':
    case '-v':
      process.stdout.write(`${await version()}\n`)
      return 0
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      // No command is wrong usage (2), as an unknown one is; the usage goes to stderr then.
      ;(command === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`cylestio-monitor: unknown command '${command}'\n\n${USAGE}\n`)
      return 2
  }
}

// A reader that goes away (`events --json | head -1`) ends the command, as it ends `cat`: no EPIPE trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(0)
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`cylestio-monitor: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
