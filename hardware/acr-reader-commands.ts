/**
 * Reader-specific commands for the two readers schools buy: the ACR122U (pseudo-APDUs with class FF,
 * which its firmware answers itself, API manual v2.04) and the ACR1252U (escape commands with class
 * E0, reference manual §5.4). Other PC/SC readers get none of these.
 */

export type ReaderModel = 'acr122' | 'acr1252' | 'other';

/** ACR122U "Set buzzer output during card detection", P2 = 00 off, FF on. Volatile: resent on every attach. */
export const ACR122_BUZZER_OFF = Buffer.from([0xff, 0x00, 0x52, 0x00, 0x00]);
export const ACR122_BUZZER_ON = Buffer.from([0xff, 0x00, 0x52, 0xff, 0x00]);

/**
 * ACR122U "Bi-color LED and buzzer control" P2 bits: 0 final red, 1 final green, 2 red mask,
 * 3 green mask (4-7 are blinking, which the reader performs before it answers, so never used here:
 * a blinking LED would hold up the next tag).
 */
const ACR122_LED_RED = 0x01;
const ACR122_LED_GREEN = 0x02;
const ACR122_LED_UPDATE_BOTH = 0x0c;
/** Blink durations, repetitions and buzzer link, all zero: set the LEDs and answer at once. */
const ACR122_LED_NO_BLINK = [0x00, 0x00, 0x00, 0x00];

/** ACR1252U "Read/Set LED and buzzer status indicator behavior"; bit 3 beeps on card insertion and removal. */
export const ACR1252_READ_BEHAVIOR = Buffer.from([0xe0, 0x00, 0x00, 0x21, 0x00]);
export const ACR1252_BEHAVIOR_BUZZER_BIT = 0x08;
/** Escape answers start E1 00 00 00 01 and carry one data byte. */
const ACR1252_ANSWER_LENGTH = 6;

export type LedState = 'ready' | 'playing';

export function readerModel(name: string): ReaderModel {
  const lower = name.toLowerCase();
  if (lower.includes('acr122')) return 'acr122';
  if (lower.includes('acr1252') || lower.includes('acr125')) return 'acr1252';
  return 'other';
}

/** Ready is green; playing is red and green together (amber). */
export function acr122Led(state: LedState): Buffer {
  const lit = state === 'ready' ? ACR122_LED_GREEN : ACR122_LED_GREEN | ACR122_LED_RED;
  return Buffer.from([0xff, 0x00, 0x40, ACR122_LED_UPDATE_BOTH | lit, ACR122_LED_NO_BLINK.length, ...ACR122_LED_NO_BLINK]);
}

/** The behavior byte from an ACR1252U escape answer, or null when the answer is not one. */
export function acr1252Behavior(answer: Buffer): number | null {
  if (answer.length < ACR1252_ANSWER_LENGTH || answer[0] !== 0xe1) return null;
  return answer[ACR1252_ANSWER_LENGTH - 1]!;
}

export function acr1252SetBehavior(behavior: number): Buffer {
  return Buffer.from([0xe0, 0x00, 0x00, 0x21, 0x01, behavior & 0xff]);
}

/** True when a pseudo-APDU answer ends in 90 00. */
export function succeeded(answer: Buffer): boolean {
  return answer.length >= 2 && answer[answer.length - 2] === 0x90 && answer[answer.length - 1] === 0x00;
}
