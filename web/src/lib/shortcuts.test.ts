import { describe, expect, it, vi } from 'vitest';
import { createShortcutHandler, type KeyLike } from './shortcuts';

function setup() {
  const actions = { navigate: vi.fn(), focusSearch: vi.fn(), showHelp: vi.fn() };
  return { actions, handle: createShortcutHandler(actions) };
}
const key = (k: string, timeStamp: number, extra: Partial<KeyLike> = {}): KeyLike => ({ key: k, timeStamp, ...extra });

describe('keyboard shortcuts', () => {
  it('goes to a page with g then its letter', () => {
    const { actions, handle } = setup();
    expect(handle(key('g', 1000))).toBe(true);
    expect(handle(key('q', 1200))).toBe(true);
    expect(handle(key('g', 2000))).toBe(true);
    expect(handle(key('s', 2100))).toBe(true);
    expect(actions.navigate.mock.calls).toEqual([['/queues'], ['/schedules']]);
  });

  it('forgets the g after a pause, and a letter alone does nothing', () => {
    const { actions, handle } = setup();
    handle(key('g', 1000));
    expect(handle(key('j', 4000))).toBe(false);
    expect(handle(key('w', 4100))).toBe(false);
    expect(actions.navigate).not.toHaveBeenCalled();
  });

  it('focuses the search with /, opens the help with ?, a new job with n', () => {
    const { actions, handle } = setup();
    handle(key('/', 1));
    handle(key('?', 2));
    handle(key('n', 3));
    expect(actions.focusSearch).toHaveBeenCalledOnce();
    expect(actions.showHelp).toHaveBeenCalledOnce();
    expect(actions.navigate).toHaveBeenCalledWith('/jobs/new');
  });

  it('leaves keys alone while typing in a field or with a modifier', () => {
    const { actions, handle } = setup();
    const input = document.createElement('input');
    expect(handle(key('/', 1, { target: input }))).toBe(false);
    expect(handle(key('g', 2, { target: document.createElement('textarea') }))).toBe(false);
    expect(handle(key('j', 3))).toBe(false);
    expect(handle(key('n', 4, { ctrlKey: true }))).toBe(false);
    expect(actions.navigate).not.toHaveBeenCalled();
    expect(actions.focusSearch).not.toHaveBeenCalled();
  });
});
