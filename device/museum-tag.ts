/**
 * What a tapped tag means in a collection. The UID is looked up first (no page reads needed, so a
 * known tag plays at once); only then the tag's NDEF text records, which Museum in a Box writes as
 * JSON: {"id":"347","audio":"violette.wav"} for an object, {"configure":"volume-up"} for an admin tag.
 */
import { z } from 'zod';
import { adminAction, type AdminAction, type Collection, type CollectionObject } from './museum-collection.ts';

export type TagMeaning =
  | {
      kind: 'object';
      objectId: string;
      title: string;
      audioFile: string;
      /** The language asked for when the object has no story in it (another one plays), else null. */
      missingLanguage: string | null;
      /** The language of `audioFile`, when known (an audio path from a tag has none). */
      language: string | null;
    }
  | { kind: 'admin'; action: AdminAction }
  | { kind: 'unknown'; reason: string };

const ndefAdmin = z.object({ configure: adminAction });
const ndefObject = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  audio: z.string().min(1).optional(),
  title: z.string().optional(),
});

/** The meaning of a UID the manifest names, or null when it does not; objects play in `language` (null: the collection's) when they can. */
export function meaningOfUid(collection: Collection, uid: string, language: string | null = null): TagMeaning | null {
  const action = collection.adminAction(uid);
  if (action) return { kind: 'admin', action };
  const object = collection.byUid(uid);
  if (object) return objectMeaning(collection, object, language);
  return null;
}

function objectMeaning(collection: Collection, object: CollectionObject, language: string | null): TagMeaning {
  const story = collection.storyFor(object, language);
  return {
    kind: 'object',
    objectId: object.objectId,
    title: object.title,
    audioFile: story.file,
    missingLanguage: story.fallback ? (language ?? collection.manifest.language) : null,
    language: story.language,
  };
}

/** The meaning of a tag's NDEF text records; the first record that means something wins. */
export function meaningOfNdef(collection: Collection, texts: readonly string[], language: string | null = null): TagMeaning {
  let reason = texts.length === 0 ? 'not in the manifest and no NDEF text records' : 'not in the manifest and no NDEF record the box understands';
  for (const text of texts) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      continue;
    }
    const admin = ndefAdmin.safeParse(json);
    if (admin.success) return { kind: 'admin', action: admin.data.configure };
    const object = ndefObject.safeParse(json);
    if (!object.success) continue;
    const { id, audio, title } = object.data;
    const known = id === undefined ? undefined : collection.byId(id);
    if (known) return objectMeaning(collection, known, language);
    if (audio === undefined) {
      reason = `NDEF id "${id}" is not in the manifest and the tag names no audio file`;
      continue;
    }
    const audioFile = collection.audioFile(audio);
    if (audioFile === null) {
      reason = `the tag's audio "${audio}" is not a WAV/MP3 file inside the collection folder`;
      continue;
    }
    return { kind: 'object', objectId: id ?? audio, title: title ?? id ?? audio, audioFile, missingLanguage: null, language: null };
  }
  return { kind: 'unknown', reason };
}
