/**
 * The demo collection `npm start` plays: three objects spoken by espeak-ng at first start, an object
 * that only its tag's NDEF record knows (as Museum in a Box writes them), an admin tag and a tag
 * nobody assigned. Without espeak-ng the stories become short tunes, and the log says how to get voices.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { speakToWav } from '../hardware/speech-synth.ts';
import type { VirtualTagSpec } from '../hardware/virtual-nfc-reader.ts';
import { encodeWav, tones } from '../hardware/wav-file.ts';
import { findManifest, manifestSchema, saveManifest, DEFAULT_MANIFEST } from './museum-collection.ts';

const FALLBACK_RATE = 22_050;

interface DemoStory {
  uid?: string;
  id?: string;
  title: string;
  description: string;
  audio: string;
  text: string;
  language: string;
  /** Listed in the manifest; the NDEF-only object is not. */
  inManifest: boolean;
}

const STORIES: readonly DemoStory[] = [
  {
    uid: '04a1b2c3d4e501',
    id: 'ammonite',
    title: 'Ammonite fossil',
    description: 'Found in the limestone wall behind the school.',
    audio: 'ammonite.wav',
    text: 'I am an ammonite. I swam in a warm sea one hundred and eighty million years ago, long before the hedgerows grew.',
    language: 'en',
    inManifest: true,
  },
  {
    uid: '04a1b2c3d4e502',
    title: 'Roman coin',
    description: 'A bronze coin of the emperor Constantine.',
    audio: 'roman-coin.wav',
    text: 'A farmer found me in his field. I paid for bread in a Roman town, sixteen hundred years ago.',
    language: 'en',
    inManifest: true,
  },
  {
    uid: '04a1b2c3d4e503',
    title: 'Barn owl feather',
    description: 'Soft edges let the owl fly without a sound.',
    audio: 'owl-feather.wav',
    text: 'Listen. You cannot hear me fly. My soft feathers let me hunt mice in the dark.',
    language: 'en',
    inManifest: true,
  },
  {
    id: '347',
    title: 'Violette',
    description: 'Known only from its tag: {"id":"347","audio":"violette.wav"}.',
    audio: 'violette.wav',
    text: 'Bonjour! Je suis Violette, une fleur des haies.',
    language: 'fr',
    inManifest: false,
  },
];

const VOLUME_UP_TAG = '04a1b2c3d4e5f0';

/** Tags the manifest does not list: one that only its NDEF record explains, and one nobody assigned. */
export const DEMO_EXTRA_TAGS: readonly VirtualTagSpec[] = [
  { uid: '04a1b2c3d4e5a7', texts: ['{"id":"347","audio":"violette.wav"}'] },
  { uid: '04deadbeef0001' },
];

/** Tags the virtual reader taps in the demo, in turn. */
export const DEMO_TAGS: readonly VirtualTagSpec[] = [
  ...STORIES.filter((s) => s.uid !== undefined).map((s) => ({ uid: s.uid! })),
  ...DEMO_EXTRA_TAGS,
];

/** Creates the demo collection in `dir` unless a manifest is already there. Returns whether it did. */
export async function ensureDemoCollection(dir: string, log: Logger): Promise<boolean> {
  if (findManifest(dir)) return false;
  await mkdir(dir, { recursive: true });
  let spoken = true;
  for (const [index, story] of STORIES.entries()) {
    const out = join(dir, story.audio);
    try {
      await speakToWav(story.text, { language: story.language, out });
    } catch (error) {
      if (spoken) log.warn(`demo collection: ${(error as Error).message}; using tunes instead of voices`);
      spoken = false;
      await writeFile(out, encodeWav(tones([{ hz: 392 + index * 60, ms: 300 }, { hz: 523 + index * 60, ms: 500 }], FALLBACK_RATE), FALLBACK_RATE));
    }
  }
  const manifest = manifestSchema.parse({
    title: 'Hedgerow demo museum',
    language: 'en',
    objects: STORIES.filter((s) => s.inManifest).map(({ uid, id, title, description, audio, text, language }) => ({
      uid,
      id,
      title,
      description,
      audio,
      text,
      language,
    })),
    admin: [{ uid: VOLUME_UP_TAG, action: 'volume-up' }],
  });
  await saveManifest(join(dir, DEFAULT_MANIFEST), manifest);
  log.info(`demo collection created in ${dir} (${spoken ? 'spoken with espeak-ng' : 'tunes'})`);
  return true;
}
