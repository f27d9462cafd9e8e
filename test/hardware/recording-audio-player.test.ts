import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingAudioPlayer } from '../../hardware/recording-audio-player.ts';
import { encodeWav } from '../../hardware/wav-file.ts';
import { ManualClock } from './manual-clock.ts';

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-recording-'));
const second = join(dir, 'one-second.wav');
writeFileSync(second, encodeWav(new Float32Array(8000), 8000));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RecordingAudioPlayer', () => {
  it('plays a WAV for as long as its header says, on the injected clock', async () => {
    const clock = new ManualClock(0);
    const player = new RecordingAudioPlayer({ clock });
    const handle = player.play(second);
    expect(player.playing).toBe(second);
    clock.advance(999);
    await Promise.resolve();
    expect(player.played[0]!.outcome).toBeNull();
    clock.advance(1);
    expect(await handle.finished).toBe('finished');
    expect(player.playing).toBeNull();
  });

  it('stops the previous sound when a new one starts', async () => {
    const clock = new ManualClock(0);
    const player = new RecordingAudioPlayer({ clock, durationMs: () => 5000 });
    const first = player.play('a.wav');
    clock.advance(1000);
    player.play('b.wav');
    expect(await first.finished).toBe('stopped');
    expect(player.files).toEqual(['a.wav', 'b.wav']);
    expect(player.played.map((p) => p.at)).toEqual([0, 1000]);
  });

  it('fails a missing file and records the volume it was given', async () => {
    const player = new RecordingAudioPlayer({ clock: new ManualClock(0) });
    expect(await player.play(join(dir, 'missing.wav')).finished).toBe('failed');
    await player.setVolume(-5);
    expect(player.volume).toBe(0);
  });
});
