/**
 * The `hedgerow` command. It sits in cloud/ because it is the one module allowed to see every
 * folder (imports follow hardware → device → gateway → cloud). Each subcommand loads its code lazily,
 * so `hedgerow station` on a Pi Zero never loads the cloud engine.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../device/config-file.ts';
import { createLogger, type LogFormat } from './logger.ts';
import { loadSettings } from './hedgerow-settings.ts';

interface GlobalOptions {
  config?: string;
  logLevel?: string;
  logFormat?: LogFormat;
}

interface StationFlags {
  hardware?: string;
  interval?: string;
  stationId?: string;
  dataDir?: string;
}

/** Flags shared by the commands that run a station; they override the config file. */
function stationFlags(command: Command): Command {
  return command
    .addOption(new Option('--hardware <mode>', 'virtual, real, or auto (real where an I²C bus exists)').choices(['auto', 'real', 'virtual']))
    .option('--interval <duration>', 'time between records, e.g. 300, 30s, 5m')
    .option('--station-id <id>', 'station id (topic level and deviceId)')
    .option('--data-dir <dir>', 'folder for the outbox and other SQLite files');
}

function overridesFrom(flags: StationFlags): Record<string, unknown> {
  const interval = flags.interval === undefined ? undefined : /^\d+(\.\d+)?$/.test(flags.interval) ? Number(flags.interval) : flags.interval;
  return {
    station: { id: flags.stationId, interval },
    hardware: { mode: flags.hardware },
    dataDir: flags.dataDir,
  };
}

export function buildProgram(): Command {
  const program = new Command('hedgerow')
    .description('Hedgerow: weather station, museum box, durable uplink and IoT Analytics-compatible cloud for Raspberry Pis')
    .option('-c, --config <file>', 'YAML or JSON config file (default: none, every key has a default)')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .addOption(new Option('--log-format <format>', 'pretty lines or JSON').choices(['pretty', 'json']))
    .showHelpAfterError('(run with --help for usage)');

  const context = (command: Command) => {
    const globals = command.optsWithGlobals<GlobalOptions & StationFlags>();
    const log = createLogger({ level: globals.logLevel, format: globals.logFormat });
    return { globals, log };
  };

  stationFlags(
    program
      .command('start')
      .description('run everything on embedded defaults: virtual hardware where no I²C bus exists, a record every 5 s, SQLite outbox')
      .action(async (_opts, command: Command) => {
        const { globals, log } = context(command);
        // The demo samples every 5 s so a newcomer sees records at once; a config file or flag overrides it.
        const demo = globals.config ? {} : { station: { interval: 5 } };
        const settings = loadSettings(globals.config, deepDefaults(overridesFrom(globals), demo));
        const { runStation } = await import('../gateway/pi-runtime.ts');
        await runStation(settings, log);
      }),
  );

  stationFlags(
    program
      .command('station')
      .description('run the weather station: sample the sensors every interval and store each record in the outbox')
      .action(async (_opts, command: Command) => {
        const { globals, log } = context(command);
        const settings = loadSettings(globals.config, overridesFrom(globals));
        const { runStation } = await import('../gateway/pi-runtime.ts');
        await runStation(settings, log);
      }),
  );

  stationFlags(
    program
      .command('sensors')
      .description('probe every sensor once and print what it reads, to check the wiring')
      .action(async (_opts, command: Command) => {
        const { globals, log } = context(command);
        const settings = loadSettings(globals.config, overridesFrom(globals));
        const { probeSensors } = await import('../device/sensor-probe.ts');
        const ok = await probeSensors(settings, log, (line) => process.stdout.write(`${line}\n`));
        process.exitCode = ok ? 0 : 1;
      }),
  );

  return program;
}

/** Lays `defaults` under `values`: a flag the user gave wins over the demo default. */
function deepDefaults(values: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const under = out[key];
    out[key] =
      value !== null && typeof value === 'object' && under !== null && typeof under === 'object'
        ? deepDefaults(value as Record<string, unknown>, under as Record<string, unknown>)
        : value;
  }
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`hedgerow: the configuration has problems, nothing was started.\n${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`hedgerow: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
