/**
 * The page's keys and pointer as the Linux input events the virtio keyboard
 * and tablet take: KeyboardEvent.code (the key's place, whatever the layout)
 * to a Linux key code (include/uapi/linux/input-event-codes.h), and a
 * pointer over the canvas to the tablet's absolute 0..0x7fff.
 */
import {
  ABS_MAX,
  ABS_X,
  ABS_Y,
  BTN_LEFT,
  BTN_MIDDLE,
  BTN_RIGHT,
  EV_ABS,
  EV_KEY,
  EV_SYN,
  SYN_REPORT,
} from '../core/virtio/input.js';
import type { LinuxInputEvent } from '../src/web/protocol.js';

const ROWS: [string, number][] = [
  ['Escape', 1],
  ['Digit1', 2],
  ['Digit2', 3],
  ['Digit3', 4],
  ['Digit4', 5],
  ['Digit5', 6],
  ['Digit6', 7],
  ['Digit7', 8],
  ['Digit8', 9],
  ['Digit9', 10],
  ['Digit0', 11],
  ['Minus', 12],
  ['Equal', 13],
  ['Backspace', 14],
  ['Tab', 15],
  ['KeyQ', 16],
  ['KeyW', 17],
  ['KeyE', 18],
  ['KeyR', 19],
  ['KeyT', 20],
  ['KeyY', 21],
  ['KeyU', 22],
  ['KeyI', 23],
  ['KeyO', 24],
  ['KeyP', 25],
  ['BracketLeft', 26],
  ['BracketRight', 27],
  ['Enter', 28],
  ['ControlLeft', 29],
  ['KeyA', 30],
  ['KeyS', 31],
  ['KeyD', 32],
  ['KeyF', 33],
  ['KeyG', 34],
  ['KeyH', 35],
  ['KeyJ', 36],
  ['KeyK', 37],
  ['KeyL', 38],
  ['Semicolon', 39],
  ['Quote', 40],
  ['Backquote', 41],
  ['ShiftLeft', 42],
  ['Backslash', 43],
  ['KeyZ', 44],
  ['KeyX', 45],
  ['KeyC', 46],
  ['KeyV', 47],
  ['KeyB', 48],
  ['KeyN', 49],
  ['KeyM', 50],
  ['Comma', 51],
  ['Period', 52],
  ['Slash', 53],
  ['ShiftRight', 54],
  ['NumpadMultiply', 55],
  ['AltLeft', 56],
  ['Space', 57],
  ['CapsLock', 58],
  ['F1', 59],
  ['F2', 60],
  ['F3', 61],
  ['F4', 62],
  ['F5', 63],
  ['F6', 64],
  ['F7', 65],
  ['F8', 66],
  ['F9', 67],
  ['F10', 68],
  ['NumLock', 69],
  ['ScrollLock', 70],
  ['Numpad7', 71],
  ['Numpad8', 72],
  ['Numpad9', 73],
  ['NumpadSubtract', 74],
  ['Numpad4', 75],
  ['Numpad5', 76],
  ['Numpad6', 77],
  ['NumpadAdd', 78],
  ['Numpad1', 79],
  ['Numpad2', 80],
  ['Numpad3', 81],
  ['Numpad0', 82],
  ['NumpadDecimal', 83],
  ['IntlBackslash', 86],
  ['F11', 87],
  ['F12', 88],
  ['NumpadEnter', 96],
  ['ControlRight', 97],
  ['NumpadDivide', 98],
  ['PrintScreen', 99],
  ['AltRight', 100],
  ['Home', 102],
  ['ArrowUp', 103],
  ['PageUp', 104],
  ['ArrowLeft', 105],
  ['ArrowRight', 106],
  ['End', 107],
  ['ArrowDown', 108],
  ['PageDown', 109],
  ['Insert', 110],
  ['Delete', 111],
  ['Pause', 119],
  ['MetaLeft', 125],
  ['MetaRight', 126],
  ['ContextMenu', 127],
];

/** KeyboardEvent.code → Linux key code. */
export const LINUX_KEYS: ReadonlyMap<string, number> = new Map(ROWS);

const SYN: LinuxInputEvent = { type: EV_SYN, code: SYN_REPORT, value: 0 };

/** A key's press (`down`) or release as a batch for the keyboard; null for a key the keyboard has not. */
export function keyEvents(code: string, down: boolean): LinuxInputEvent[] | null {
  const key = LINUX_KEYS.get(code);
  return key === undefined ? null : [{ type: EV_KEY, code: key, value: down ? 1 : 0 }, SYN];
}

/** PointerEvent.button → the tablet's button. */
const BUTTONS = [BTN_LEFT, BTN_MIDDLE, BTN_RIGHT];

/** Where `fraction` (0..1 across the screen) lands on the tablet's axis. */
export function tabletAxis(fraction: number): number {
  return Math.round(Math.min(1, Math.max(0, fraction)) * ABS_MAX);
}

/**
 * The tablet's batch for a pointer at (fx, fy), fractions of the screen:
 * the position, and a button's press or release when `button` says which.
 */
export function pointerEvents(fx: number, fy: number, button?: { index: number; down: boolean }): LinuxInputEvent[] {
  const events: LinuxInputEvent[] = [
    { type: EV_ABS, code: ABS_X, value: tabletAxis(fx) },
    { type: EV_ABS, code: ABS_Y, value: tabletAxis(fy) },
  ];
  const btn = button && BUTTONS[button.index];
  if (btn !== undefined) events.push({ type: EV_KEY, code: btn, value: button!.down ? 1 : 0 });
  events.push(SYN);
  return events;
}
