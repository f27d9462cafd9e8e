/**
 * The `hedgerow` command. It sits in cloud/ because it is the one module allowed to see every
 * folder (imports follow hardware → device → gateway → cloud). Each subcommand loads its code lazily,
 * so `hedgerow station` on a Pi Zero never loads the cloud engine.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, readConfigFile } from '../hardware/core/config-file.ts';
import { runUntilSignal } from '../hardware/core/controller.ts';
import { createLogger, LOG_LEVELS, type LogFormat } from '../hardware/core/logger.ts';
import { DEFAULT_API_PORT, DEFAULT_API_REGION, GENERATED_KEYS_FILE } from '../cloud/api/api-settings.ts';
import { DEFAULT_DATA_DIR } from '../cloud/settings.ts';
import type { Engine } from '../cloud/engine/engine.ts';
import { DEMO_INTERVAL_S, DEMO_STATIONS, demoStationSettings } from './demo-stations.ts';
import { deepMerge, loadSettings } from './hedgerow-settings.ts';
import { lanAddress, startLine } from './start-line.ts';
import { addBrokerLoginCommands } from './broker-logins.ts';
import { VIRTUAL_WEATHER_KEYS } from '../hardware/virtual-weather-command.ts';

interface GlobalOptions {
  config?: string;
  collection?: string;
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

/** A config file's section as an object, or {} when it is absent or not an object (the settings schema reports that). */
function configSection(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function buildProgram(): Command {
  const program = new Command('hedgerow')
    .description('Hedgerow: weather station, museum box, durable uplink and IoT Analytics-compatible cloud for Raspberry Pis')
    .option('-c, --config <file>', 'YAML or JSON config file (default: none, every key has a default)')
    // No commander default: it would hide HEDGEROW_LOG_LEVEL, which createLogger reads when the flag is absent.
    .addOption(new Option('--log-level <level>', 'how much to log (default info, or HEDGEROW_LOG_LEVEL)').choices(LOG_LEVELS))
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
      .description(
        `run everything on embedded defaults: broker, cloud engine and API, and three virtual demo stations (${DEMO_STATIONS.map((s) => s.id).join(', ')}) with a week of history, a record every ${DEMO_INTERVAL_S} s; a station id (station.id in the config file, or --station-id) runs that one station instead`,
      )
      .option('--host <address>', 'address the weather page and API listen on (api.host); 0.0.0.0 lets a phone on the same network open the page')
      .addHelpText(
        'after',
        `
Where to look once it runs (the last start-up line says it again):
  weather page   http://127.0.0.1:${DEFAULT_API_PORT}/  (api.port; with --host 0.0.0.0 also at this machine's LAN address)
  API            http://127.0.0.1:${DEFAULT_API_PORT}  (IoT Analytics REST, SigV4, region ${DEFAULT_API_REGION})
  API keys       ${DEFAULT_DATA_DIR}/${GENERATED_KEYS_FILE}  (generated at the first start; or api.accessKeys / HEDGEROW_ACCESS_KEY_ID)
Change a demo station's weather while it runs: hedgerow demo weather --station hilltop --set ambient_temperature=-3`,
      )
      .action(async (opts: { host?: string }, command: Command) => {
        const { globals, log } = context(command);
        // The demo runs until the user names a station (config file or --station-id): a config file that only
        // sets alerts, ports or folders keeps the three stations, recording often so a newcomer sees records at once.
        const file = globals.config ? configSection(readConfigFile(globals.config)) : {};
        const fileStation = configSection(file.station);
        const threeStations = globals.stationId === undefined && fileStation.id === undefined;
        const demoDefaults = threeStations
          ? { station: { interval: fileStation.interval === undefined ? DEMO_INTERVAL_S : undefined }, museum: { enabled: configSection(file.museum).enabled === undefined ? true : undefined } }
          : {};
        const overrides = deepMerge(deepMerge(demoDefaults, overridesFrom(globals)) as Record<string, unknown>, { api: { host: opts.host } });
        const settings = loadSettings(globals.config, overrides as Record<string, unknown>);
        if (settings.cloud.mqtt.shareGroup !== undefined) {
          // aedes 1.x has no shared subscriptions: `$share/...` would be a plain topic nobody publishes to.
          throw new ConfigError(globals.config ?? 'the configuration', [
            `cloud.mqtt.shareGroup "${settings.cloud.mqtt.shareGroup}" needs a broker with shared subscriptions (mosquitto 2, EMQX, AWS IoT Core); \`hedgerow start\` runs the embedded broker, which has none. Remove cloud.mqtt.shareGroup, or run \`hedgerow cloud\` workers against such a broker (cloud.mqtt.url).`,
          ]);
        }
        const stations = threeStations ? DEMO_STATIONS.map((station, i) => demoStationSettings(settings, station, i)) : [settings];
        const [{ piExtensions }, { startCloud }, { backfillDemoWeather }, { VirtualWeather }] = await Promise.all([
          import('./pi-runtime.ts'),
          import('../cloud/api/start-cloud.ts'),
          import('./demo-backfill.ts'),
          import('../hardware/virtual-weather.ts'),
        ]);
        const cloudLog = log.child({ part: 'cloud' });
        // Virtual stations only: a real one has no model to fill its past from.
        const backfill = threeStations && settings.hardware.mode !== 'real'
          ? (engine: Engine) =>
              backfillDemoWeather(engine, {
                stations: stations.map((s) => ({ id: s.station.id, weather: new VirtualWeather(s.station.id, s.hardware.virtualWeather) })),
                // Called from the engine's start, when cloud.engine and its store exist.
                store: cloud.engine.store,
                datastoreName: settings.weatherPage.datastoreName,
                now: Date.now(),
                log: cloudLog,
              }).then(() => undefined)
          : undefined;
        const cloud = startCloud({ settings, log: cloudLog, engine: { beforeFirstRuns: backfill } });
        const extensions = stations.flatMap((s, i) =>
          piExtensions(s, log, {
            station: true,
            uplink: true,
            broker: i === 0,
            embeddedBroker: true,
            afterBroker: i === 0 ? [cloud] : [],
            museum: i === 0 && s.museum.enabled,
            labelStation: stations.length > 1,
          }),
        );
        await runUntilSignal(extensions, log, () => {
          if (cloud.endpoint) {
            process.stdout.write(`${startLine({ endpoint: cloud.endpoint, region: settings.api.region, credentialsAt: cloud.credentialsAt, lanAddress: lanAddress() })}\n`);
          }
        });
      }),
  );

  stationFlags(
    program
      .command('station')
      .description('run the weather station: sample the sensors every interval, store each record in the outbox, and send it on (unless --no-uplink)')
      .option('--no-uplink', 'only store records; a separate `hedgerow gateway` process sends them')
      .action(async (opts: { uplink: boolean }, command: Command) => {
        const { globals, log } = context(command);
        const settings = loadSettings(globals.config, overridesFrom(globals));
        const [{ piExtensions, StationExtension }, { runAsService }] = await Promise.all([import('./pi-runtime.ts'), import('./systemd-service.ts')]);
        const extensions = piExtensions(settings, log, { station: true, uplink: opts.uplink, broker: false, museum: settings.museum.enabled });
        const station = extensions.find((extension) => extension instanceof StationExtension)!;
        await runAsService(extensions, log, station.serviceHealth());
      }),
  );

  program
    .command('gateway')
    .description('run the uplink alone: drain the outbox to the configured MQTT broker or AWS IoT Core')
    .option('--data-dir <dir>', 'folder of the outbox file')
    .action(async (opts: { dataDir?: string }, command: Command) => {
      const { globals, log } = context(command);
      const settings = loadSettings(globals.config, { dataDir: opts.dataDir });
      const { piExtensions } = await import('./pi-runtime.ts');
      await runUntilSignal(piExtensions(settings, log, { station: false, uplink: true, broker: false }), log);
    });

  const broker = program
    .command('broker')
    .description('run the embedded MQTT broker alone, e.g. a classroom gateway several Pis publish to (needs broker.users or broker.username/password off loopback)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--port <n>', 'port (default 1883)')
    .action(async (opts: { host?: string; port?: string }, command: Command) => {
      const { globals, log } = context(command);
      const settings = loadSettings(globals.config, { broker: { host: opts.host, port: opts.port === undefined ? undefined : Number(opts.port) } });
      const { createBrokerExtension } = await import('../gateway/gateway.ts');
      await runUntilSignal([createBrokerExtension(settings.broker, log)], log);
    });
  addBrokerLoginCommands(broker);

  program
    .command('status')
    .description('print the outbox depth, bytes, oldest record and the uplink\'s last state')
    .option('--data-dir <dir>', 'folder of the outbox file')
    .action(async (opts: { dataDir?: string }, command: Command) => {
      const { globals, log } = context(command);
      const settings = loadSettings(globals.config, { dataDir: opts.dataDir });
      const [{ outboxPath }, { printStatus }] = await Promise.all([import('../gateway/gateway.ts'), import('../gateway/commands.ts')]);
      process.exitCode = printStatus(outboxPath(settings.outbox, settings.dataDir), log, (line) => process.stdout.write(`${line}\n`));
    });

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

  program
    .command('doctor')
    .description('check, one step at a time, why a station does not report (config, config.txt, I²C, sensors, 1-Wire, groups, outbox, uplink, certificates, clock, museum box, units), each with its fix')
    .option('--json', 'one JSON document, for a script or a support ticket (no passwords or keys in it)')
    .option('--fix', 'apply the safe fixes (config.txt lines, certificate modes, the outbox folder, the groups) and say each; needs root')
    .action(async (opts: { json?: boolean; fix?: boolean }, command: Command) => {
      const { globals } = context(command);
      const { doctorCommand } = await import('./doctor/doctor.ts');
      // The checks' own log lines would break --json and repeat the findings: none with --json, else warnings only.
      const log = createLogger({ level: opts.json ? 'silent' : (globals.logLevel ?? 'warn'), format: globals.logFormat });
      const write = (text: string) => process.stdout.write(text);
      process.exitCode = await doctorCommand({ configFile: globals.config, json: opts.json === true, fix: opts.fix === true, log, write, warn: (text) => process.stderr.write(text) });
    });

  const box = program
    .command('box')
    .description('run the museum box: tap a tagged object, hear its story; each tap is a record sent like the station\'s')
    .option('--collection <dir>', 'collection folder (manifest + audio files)')
    .option('--no-uplink', 'only store tap records; a separate `hedgerow gateway` sends them')
    .action(async (opts: { collection?: string; uplink: boolean }, command: Command) => {
      const { globals, log } = context(command);
      const settings = loadSettings(globals.config, { museum: { collection: opts.collection } });
      const [{ piExtensions }, { runAsService }] = await Promise.all([import('./pi-runtime.ts'), import('./systemd-service.ts')]);
      await runAsService(piExtensions(settings, log, { station: false, uplink: opts.uplink, broker: false, museum: true }), log, { started: () => 'museum box: reader up, waiting for a tap' });
    });

  box
    .command('assign')
    .description('"tap the tag you want to assign", then record the story from the microphone, pick an audio file, or type a message (spoken with espeak-ng); every story is trimmed and normalised (ffmpeg)')
    .option('--collection <dir>', 'collection folder (default museum.collection)')
    .option('--title <title>', 'object title (asked when missing)')
    .option('--description <text>', 'object description')
    .option('--audio <file>', 'audio file to play; copied into the collection')
    .option('--text <message>', 'message to speak instead of an audio file')
    .option('--record', 'record the story from the microphone (museum.record.device), with a level meter; Enter stops')
    .option('--language <code>', "the story's language, e.g. en, fr, cy (espeak-ng's voice for --text); another language than the object's adds a translation")
    .action(async (_opts, command: Command) => {
      const { globals, log } = context(command);
      // `box` has --collection too: commander gives it to whichever command sits nearer, so read both.
      const opts = command.optsWithGlobals<{ collection?: string; title?: string; description?: string; audio?: string; text?: string; record?: boolean; language?: string }>();
      const settings = loadSettings(globals.config);
      const { runBoxAssign } = await import('../device/museum-assign.ts');
      const result = await runBoxAssign({ settings: settings.museum, log, ...opts });
      process.stdout.write(`Tag ${result.uid} → "${result.object.title}" (${result.object.audio}), saved in ${result.manifestPath}\n`);
    });

  box
    .command('list')
    .description('show the collection\'s objects and flag missing audio files')
    .option('--collection <dir>', 'collection folder (default museum.collection)')
    .action(async (_opts, command: Command) => {
      const { globals } = context(command);
      const settings = loadSettings(globals.config);
      const { runBoxList } = await import('../device/museum-list.ts');
      const ok = await runBoxList({ collection: globals.collection ?? settings.museum.collection, print: (line) => process.stdout.write(`${line}\n`) });
      process.exitCode = ok ? 0 : 1;
    });

  box
    .command('export <file>')
    .description('write the collection as one bundle (tar.gz: manifest, audio, bundle.json, checksums.sha256) for another box; the collection is only read')
    .option('--collection <dir>', 'collection folder (default museum.collection)')
    .action(async (file: string, _opts, command: Command) => {
      const { globals } = context(command);
      const opts = command.optsWithGlobals<{ collection?: string }>();
      const settings = loadSettings(globals.config);
      const { exportCollection, exportSummary } = await import('../device/museum-bundle-export.ts');
      const result = await exportCollection({ collection: opts.collection ?? settings.museum.collection, file });
      for (const line of exportSummary(result)) process.stdout.write(`${line}\n`);
    });

  box
    .command('import <file>')
    .description('check a bundle from `hedgerow box export` and install it beside the other collections, or change nothing')
    .option('--as <name>', 'install under this name instead of the bundle\'s (its folder and collection:<name> tag)')
    .option('--collections <dir>', 'collections folder (default museum.collectionsDir, else the folder around museum.collection)')
    .action(async (file: string, opts: { as?: string; collections?: string }, command: Command) => {
      const { globals } = context(command);
      const settings = loadSettings(globals.config);
      const [{ importBundle, importSummary }, { collectionsDirOf }] = await Promise.all([import('../device/museum-bundle-import.ts'), import('../device/museum-collections-dir.ts')]);
      const result = await importBundle({ file, collectionsDir: opts.collections ?? collectionsDirOf(settings.museum), ...(opts.as === undefined ? {} : { as: opts.as }) });
      for (const line of importSummary(result)) process.stdout.write(`${line}\n`);
    });

  box
    .command('publish')
    .description('export the collection and upload it to the school\'s cloud engine (signed with its API keys), for other schools to fetch')
    .option('--collection <dir>', 'collection folder (default museum.collection)')
    .option('--endpoint <url>', 'the engine\'s API URL (default museum.exchange.endpoint)')
    .action(async (_opts, command: Command) => {
      const { globals } = context(command);
      const opts = command.optsWithGlobals<{ collection?: string; endpoint?: string }>();
      const settings = loadSettings(globals.config);
      const { exchangeTarget, publishCollection, publishSummary } = await import('../device/collection-publish.ts');
      const target = exchangeTarget(settings.museum.exchange, opts.endpoint);
      const result = await publishCollection({ collection: opts.collection ?? settings.museum.collection, target });
      for (const line of publishSummary(result)) process.stdout.write(`${line}\n`);
    });

  box
    .command('fetch <url>')
    .description('download a published collection (its URL from `hedgerow box publish`, or a bundle\'s), check it and install it beside the other collections')
    .option('--as <name>', 'install under this name instead of the bundle\'s')
    .option('--collections <dir>', 'collections folder (default museum.collectionsDir, else the folder around museum.collection)')
    .option('--follow', 'pick up new versions by itself (every museum.exchange.follow.intervalSeconds while the box runs)')
    .action(async (url: string, opts: { as?: string; collections?: string; follow?: boolean }, command: Command) => {
      const { globals } = context(command);
      const settings = loadSettings(globals.config);
      const [{ fetchCollection, fetchSummary }, { collectionsDirOf }] = await Promise.all([import('../device/collection-fetch.ts'), import('../device/museum-collections-dir.ts')]);
      const result = await fetchCollection({ url, collectionsDir: opts.collections ?? collectionsDirOf(settings.museum), follow: opts.follow === true, ...(opts.as === undefined ? {} : { as: opts.as }) });
      for (const line of fetchSummary(result)) process.stdout.write(`${line}\n`);
    });

  box
    .command('unfollow <name>')
    .description('stop picking up new versions of a fetched collection; the installed one stays')
    .option('--collections <dir>', 'collections folder (default museum.collectionsDir, else the folder around museum.collection)')
    .action(async (name: string, opts: { collections?: string }, command: Command) => {
      const { globals } = context(command);
      const settings = loadSettings(globals.config);
      const [{ unfollowCollection }, { collectionsDirOf }] = await Promise.all([import('../device/collection-source.ts'), import('../device/museum-collections-dir.ts')]);
      process.stdout.write(`${await unfollowCollection(opts.collections ?? collectionsDirOf(settings.museum), name)}\n`);
    });

  const cloud = program
    .command('cloud')
    .description('run the IoT Analytics-compatible engine and its REST API (channels, pipelines, datastores, datasets)')
    .option('--port <n>', 'API port (default 8780)')
    .option('--data <dir>', 'folder of the engine\'s SQLite files (default data/cloud)')
    .action(async (opts: { port?: string; data?: string }, command: Command) => {
      const { globals, log } = context(command);
      const settings = loadSettings(globals.config, { api: { port: opts.port === undefined ? undefined : Number(opts.port) }, cloud: { dataDir: opts.data } });
      const [{ startCloud }, { runAsService }] = await Promise.all([import('../cloud/api/start-cloud.ts'), import('./systemd-service.ts')]);
      const engine = startCloud({ settings, log });
      await runAsService([engine], log, { started: () => `engine up, API listening on ${engine.endpoint ?? '?'}` });
    });

  cloud
    .command('apply <file>')
    .description('create or update the channels, pipelines, datastores, datasets and rules a JSON/YAML file describes; prints the plan first')
    .option('--endpoint <url>', 'API endpoint (default: the one the config describes)')
    .option('--dry-run', 'print the plan only')
    .action(async (file: string, opts: { endpoint?: string; dryRun?: boolean }, command: Command) => {
      const { globals } = context(command);
      const settings = loadSettings(globals.config);
      const { applyTargetFrom } = await import('../cloud/api/start-cloud.ts');
      const { applyResources } = await import('../cloud/api/apply.ts');
      const target = applyTargetFrom(settings);
      await applyResources(file, opts.endpoint ?? target.endpoint, target.credentials, { dryRun: opts.dryRun === true, region: target.region });
    });

  program
    .command('demo')
    .description('things for the demo that `hedgerow start` runs')
    .command('weather')
    .description('change a virtual station\'s weather while it runs, e.g. frost for an alert demo (cmd/weather/<station>/virtual-weather)')
    .requiredOption('--station <id>', 'the station, e.g. hilltop')
    .option('--set <key=value>', `a value to hold: ${VIRTUAL_WEATHER_KEYS.join(', ')} (repeat for more)`, (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--clear', 'back to the weather model')
    .action(async (opts: { station: string; set: string[]; clear?: boolean }, command: Command) => {
      const { globals } = context(command);
      const settings = loadSettings(globals.config);
      const { sendDemoWeather } = await import('./demo-weather.ts');
      process.stdout.write(`${await sendDemoWeather({ uplink: settings.uplink, stationId: opts.station, sets: opts.set, clear: opts.clear === true })}\n`);
    });

  return program;
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
    if (error instanceof Error && ['ApplyError', 'AssignError', 'SpeechError', 'StoryAudioError', 'MicrophoneError', 'InputEndedError', 'DemoWeatherError', 'BundleError', 'ExchangeError', 'SourceFileError'].includes(error.name)) {
      process.stderr.write(`hedgerow: ${error.message}\n`);
      process.exitCode = 1;
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
