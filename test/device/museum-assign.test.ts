import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualNfcReader, type VirtualTagSpec } from '../../hardware/virtual-nfc-reader.ts';
import { wavDurationMs } from '../../hardware/wav-file.ts';
import { AssignError, runBoxAssign, type Prompt } from '../../device/museum-assign.ts';
import { loadCollection } from '../../device/museum-collection.ts';
import { museumSettings } from '../../device/museum-settings.ts';
import { writeWav } from '../fixtures/audio-files.ts';
import { captureLog } from '../fixtures/captured-log.ts';

const root = mkdtempSync(join(tmpdir(), 'hedgerow-assign-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const settings = museumSettings.parse({});

/** A prompt that answers from a script and taps `tag` when the command asks for a tap. */
function scripted(reader: VirtualNfcReader, tag: VirtualTagSpec | null, answers: string[]) {
  const said: string[] = [];
  const asked: string[] = [];
  const prompt: Prompt = {
    say: (line) => {
      said.push(line);
      if (line.startsWith('Tap the tag') && tag) setImmediate(() => reader.place(tag));
    },
    ask: async (question) => {
      asked.push(question);
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected question: ${question}`);
      return answer;
    },
    close: () => undefined,
  };
  return { prompt, said, asked };
}

let n = 0;
const newFolder = () => join(root, `collection-${n++}`);

describe('hedgerow box assign', () => {
  it('assigns a tapped tag to a typed message spoken with espeak-ng, in a new collection', async () => {
    const collection = newFolder();
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const { prompt, said, asked } = scripted(reader, { uid: '04A1B2C3D4E5F6' }, ['Roman coin', 'Found by the river', '', 'Je suis une pièce romaine.', 'fr']);
    const result = await runBoxAssign({ settings, log, collection, prompt, reader });
    expect(asked).toEqual([
      'Title of the object: ',
      'Description (optional): ',
      'Audio file to play (WAV or MP3), or press Enter to type a message: ',
      'Message to speak: ',
      'Language [en]: ',
    ]);
    expect(said[0]).toBe('Tap the tag you want to assign on the reader...');
    expect(said).toContain('Tag 04a1b2c3d4e5f6 is new to "collection-0".');
    expect(result.object).toEqual({
      uid: '04a1b2c3d4e5f6',
      title: 'Roman coin',
      description: 'Found by the river',
      audio: 'roman-coin.wav',
      text: 'Je suis une pièce romaine.',
      language: 'fr',
    });
    expect(wavDurationMs(readFileSync(join(collection, 'roman-coin.wav')))).toBeGreaterThan(500);
    const loaded = await loadCollection(collection);
    expect(loaded.byUid('04a1b2c3d4e5f6')!.title).toBe('Roman coin');
    expect(result.manifestPath).toBe(join(collection, 'manifest.yaml'));
  });

  it('copies an audio file from outside into the collection without overwriting one of the same name', async () => {
    const collection = newFolder();
    mkdirSync(collection);
    writeWav(join(collection, 'owl.wav'));
    writeFileSync(join(collection, 'manifest.yaml'), 'title: Birds\nobjects:\n  - { uid: "04000001", title: Old owl, audio: owl.wav }\n');
    const outside = join(root, 'recordings');
    mkdirSync(outside, { recursive: true });
    writeWav(join(outside, 'owl.wav'), 300);
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const { prompt } = scripted(reader, { uid: '04000002' }, ['Barn owl', '', join(outside, 'owl.wav')]);
    const result = await runBoxAssign({ settings, log, collection, prompt, reader });
    expect(result.object.audio).toBe('owl-2.wav');
    expect(existsSync(join(collection, 'owl-2.wav'))).toBe(true);
    const loaded = await loadCollection(collection);
    expect(loaded.objects.map((o) => `${o.title}=${o.audio}`)).toEqual(['Old owl=owl.wav', 'Barn owl=owl-2.wav']);
  });

  it('replaces the entry of a tag assigned before, keeping its NDEF id, and turns an admin tag into an object', async () => {
    const collection = newFolder();
    mkdirSync(collection);
    writeWav(join(collection, 'a.wav'));
    writeWav(join(collection, 'b.wav'));
    writeFileSync(
      join(collection, 'manifest.json'),
      JSON.stringify({ objects: [{ uid: '04000001', id: '347', title: 'Old', audio: 'a.wav' }], admin: [{ uid: '04000009', action: 'stop' }] }),
    );
    const { log } = captureLog();
    let reader = new VirtualNfcReader({ log });
    let script = scripted(reader, { uid: '04000001' }, []);
    const replaced = await runBoxAssign({ settings, log, collection, prompt: script.prompt, reader, title: 'New', audio: join(collection, 'b.wav') });
    expect(script.said).toContain('Tag 04000001 is "Old" (a.wav); the new entry replaces it.');
    expect(replaced.replaced?.title).toBe('Old');
    expect(replaced.object).toMatchObject({ uid: '04000001', id: '347', title: 'New', audio: 'b.wav' });
    expect(script.asked).toEqual([]);

    reader = new VirtualNfcReader({ log });
    script = scripted(reader, { uid: '04000009' }, []);
    await runBoxAssign({ settings, log, collection, prompt: script.prompt, reader, title: 'Bell', audio: join(collection, 'a.wav') });
    const loaded = await loadCollection(collection);
    expect(loaded.manifest.admin).toEqual([]);
    expect(loaded.byUid('04000009')!.title).toBe('Bell');
    expect(JSON.parse(readFileSync(join(collection, 'manifest.json'), 'utf8')).objects).toHaveLength(2);
  });

  it('works without questions when everything is given as options', async () => {
    const collection = newFolder();
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const { prompt, asked } = scripted(reader, { uid: '04000003' }, []);
    const result = await runBoxAssign({ settings, log, collection, prompt, reader, title: 'Hare', text: 'I am a brown hare.', language: 'en' });
    expect(asked).toEqual([]);
    expect(result.object).toMatchObject({ title: 'Hare', description: '', audio: 'hare.wav', language: 'en' });
  });

  it('starts a new collection at version 1 and moves the version up by one with each assignment', async () => {
    const collection = newFolder();
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const assign = async (uid: string, title: string) => {
      const { prompt } = scripted(reader, { uid }, []);
      await runBoxAssign({ settings, log, collection, prompt, reader, title, text: `I am a ${title}.`, language: 'en' });
      return (await loadCollection(collection)).version;
    };
    expect(await assign('04000004', 'fox')).toBe(1);
    expect(await assign('04000005', 'owl')).toBe(2);
    expect(await assign('04000004', 'red fox')).toBe(3);
  });

  it('refuses a file that is not there and leaves the manifest as it was', async () => {
    const collection = newFolder();
    mkdirSync(collection);
    writeFileSync(join(collection, 'manifest.yaml'), 'title: Kept\n');
    const before = readFileSync(join(collection, 'manifest.yaml'), 'utf8');
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const { prompt } = scripted(reader, { uid: '04000004' }, []);
    await expect(runBoxAssign({ settings, log, collection, prompt, reader, title: 'X', audio: join(root, 'nope.wav') })).rejects.toThrow(
      /nope\.wav not found: give the path of a WAV or MP3 file/,
    );
    expect(readFileSync(join(collection, 'manifest.yaml'), 'utf8')).toBe(before);
  });

  it('gives up with a clear message when no tag is tapped', async () => {
    const { log } = captureLog();
    const reader = new VirtualNfcReader({ log });
    const { prompt } = scripted(reader, null, []);
    await expect(runBoxAssign({ settings, log, collection: newFolder(), prompt, reader, tapTimeoutMs: 50 })).rejects.toThrow(AssignError);
  });
});
