import { z } from 'zod';
import { thingName } from '../hardware/core/contract.ts';
import { defaultStationId, duration } from './settings.ts';

/**
 * The museum box's part of the config file (`museum:`). Every key has a default, so `museum:
 * { enabled: true }` runs a box with the demo collection.
 */

/** Command lines keyed by file extension (ogg, flac...); zod's own message for a bad record key says only "Invalid key". */
const playersByExtension = z.record(z.string(), z.array(z.string().min(1)).min(1, 'give the player command and its arguments')).superRefine((players, ctx) => {
  for (const key of Object.keys(players)) {
    if (!/^[a-z0-9]{1,8}$/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'use a lower-case file extension without the dot, e.g. "ogg"' });
  }
});

export const museumReaderSettings = z
  .object({
    /** real: pcscd + nfc-pcsc; virtual: taps the demo tags now and then; auto: real when pcscd answers, else virtual (said so in the log). */
    mode: z.enum(['auto', 'real', 'virtual']).default('auto'),
    /** Use only the reader whose name contains this, e.g. "ACR122"; default any reader. */
    name: z.string().min(1).optional(),
    /** Keep the reader's own beep on each tag. Default off: the box plays its own sounds. */
    buzzer: z.boolean().default(false),
    /** Show ready (green) and playing (amber) on the ACR122U LED. */
    led: z.boolean().default(true),
    /**
     * How long one reader command (UID read, NDEF page read, buzzer or LED) may take before the reader
     * process counts as hung and is restarted; tags tapped meanwhile are missed.
     */
    commandDeadline: duration.default(5000),
    /** Virtual reader: time between taps. */
    virtualTapEvery: duration.default(20_000),
    /** Virtual reader: how long a tap stays on the reader. */
    virtualHold: duration.default(3000),
  })
  .strict();

export const museumAudioSettings = z
  .object({
    /** real: play-sound with aplay/mpg123; virtual: record what would play (silent); auto: real with a real reader, else virtual. */
    mode: z.enum(['auto', 'real', 'virtual']).default('auto'),
    /** ALSA device, e.g. "default", "hw:1,0" (a USB speaker), "null" (silent, for tests). */
    device: z.string().min(1).default('default'),
    /** ALSA mixer control the volume tags move (`amixer scontrols` lists them); null: no volume control. */
    mixer: z.string().min(1).nullable().default('PCM'),
    /** Command lines per extension, replacing the defaults (wav: aplay -q -D <device>, mp3: mpg123 -q -o alsa -a <device>). */
    players: playersByExtension.default({}),
    /** Volume at start, percent. */
    volume: z.number().int().min(0).max(100).default(80),
    /** How much one volume-up / volume-down tag changes it, percent. */
    volumeStep: z.number().int().min(1).max(50).default(10),
  })
  .strict();

/** Recording a story on the box with `hedgerow box assign` (ALSA's arecord). */
export const museumRecordSettings = z
  .object({
    /** ALSA capture device, e.g. "default" or "plughw:1,0" (a USB microphone; `arecord -l` lists them). */
    device: z.string().min(1).default('default'),
    /** A take stops by itself after this long. */
    maxDuration: duration.default(60_000).pipe(z.number().max(600_000, 'keep a take under 10 minutes ("10m")')),
    /** Samples per second; 44100 keeps speech clear and plays on any ALSA device. */
    sampleRate: z.number().int().min(8000).max(96_000).default(44_100),
  })
  .strict();

/** How every story (recorded, spoken from text, or copied in) is prepared with ffmpeg before it is saved. */
export const museumStorySettings = z
  .object({
    /** Integrated loudness every story is normalised to, EBU R128 (LUFS). */
    loudness: z.number().min(-40).max(-5).default(-16),
    /** True-peak limit (dBTP). */
    truePeak: z.number().min(-9).max(0).default(-1),
    /** Sound quieter than this (dBFS) at the start and end of a story counts as silence and is trimmed. */
    silenceThreshold: z.number().min(-90).max(-10).default(-45),
  })
  .strict();

/**
 * The region the box signs its publish for: it must match the engine's api.region, whose default is
 * also eu-west-1 (device/ imports nothing from cloud/, so the figure is written twice, here and there).
 */
export const DEFAULT_EXCHANGE_REGION = 'eu-west-1';
/** Env variables the keys may come from instead of the config: the same names the engine reads its own keys from. */
export const EXCHANGE_KEY_ENV = { accessKeyId: 'HEDGEROW_ACCESS_KEY_ID', secretAccessKey: 'HEDGEROW_SECRET_ACCESS_KEY' } as const;

/** Publishing to and following collections on the school's cloud engine (`hedgerow box publish | fetch`). */
export const museumExchangeSettings = z
  .object({
    /** The engine's API URL, e.g. http://school-server:8780. Default none: `box publish` then needs --endpoint. */
    endpoint: z.url({ error: "give the engine's API URL, e.g. http://school-server:8780" }).optional(),
    /** The region the publish is signed for; must equal the engine's api.region. Default eu-west-1. */
    region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'a region looks like eu-west-1').default(DEFAULT_EXCHANGE_REGION),
    /** An access key id of the engine's API keys. Default none: HEDGEROW_ACCESS_KEY_ID. */
    accessKeyId: z.string().min(1).optional(),
    /** Its secret. Default none: HEDGEROW_SECRET_ACCESS_KEY. */
    secretAccessKey: z.string().min(1).optional(),
    follow: z
      .object({
        /** How often a followed collection's URL is asked for a newer version, in seconds. Default 3600, at least 10. */
        intervalSeconds: z.number().int().min(10, 'ask at most every 10 s').default(3600),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((e) => (e.accessKeyId === undefined) === (e.secretAccessKey === undefined), {
    message: 'give both accessKeyId and secretAccessKey, or neither (then HEDGEROW_ACCESS_KEY_ID / HEDGEROW_SECRET_ACCESS_KEY)',
  });

export const museumSettings = z
  .object({
    /** Run the museum box in `hedgerow start` / the Pi runtime. */
    enabled: z.boolean().default(false),
    /** Box id: topic level (dt/museum/<boxId>/tap) and deviceId. Default: the hostname, as for the station. */
    boxId: thingName.default(defaultStationId),
    /** Folder holding the manifest (manifest.yaml / .yml / .json) and the audio files. Relative paths are from the working folder. */
    collection: z.string().min(1).default('data/collections/demo'),
    /** Where switch-collection tags look for other collections. Default: the folder around `collection`. */
    collectionsDir: z.string().min(1).optional(),
    /** Create the demo collection (spoken with espeak-ng) when `collection` does not exist yet. */
    demo: z.boolean().default(true),
    /** Re-tapping the object that is playing within this time neither restarts nor stacks it. */
    retapWindow: duration.default(3000),
    /** What taking a tag off the reader does: let the sound finish, or stop it. */
    onRemove: z.enum(['finish', 'stop']).default('finish'),
    reader: museumReaderSettings.prefault({}),
    audio: museumAudioSettings.prefault({}),
    record: museumRecordSettings.prefault({}),
    story: museumStorySettings.prefault({}),
    exchange: museumExchangeSettings.prefault({}),
  })
  .strict();

export type MuseumSettings = z.output<typeof museumSettings>;
export type MuseumReaderSettings = z.output<typeof museumReaderSettings>;
export type MuseumAudioSettings = z.output<typeof museumAudioSettings>;
export type MuseumRecordSettings = z.output<typeof museumRecordSettings>;
export type MuseumStorySettings = z.output<typeof museumStorySettings>;
export type MuseumExchangeSettings = z.output<typeof museumExchangeSettings>;
