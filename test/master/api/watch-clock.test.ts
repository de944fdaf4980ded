import { WatchClock, type Due } from '../../../master/api/watch-clock';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function recorder(name: string, log: string[]): Due {
  return { due: () => log.push(name) };
}

describe('WatchClock', () => {
  test('calls each scheduled one once, in the order they fall due, none before its time', async () => {
    const clock = new WatchClock(20);
    const log: string[] = [];
    const start = Date.now();
    const times: Record<string, number> = {};
    const at = (name: string): Due => ({ due: (now) => { log.push(name); times[name] = now - start; } });
    clock.schedule(at('late'), start + 150);
    clock.schedule(at('early'), start + 30);
    clock.schedule(at('middle'), start + 90);
    await sleep(300);
    expect(log).toEqual(['early', 'middle', 'late']);
    expect(times.early).toBeGreaterThanOrEqual(30);
    expect(times.middle).toBeGreaterThanOrEqual(90);
    expect(times.late).toBeGreaterThanOrEqual(150);
    expect(clock.size).toBe(0);
  });

  test('a new schedule replaces the old one, and a cancelled one is never called', async () => {
    const clock = new WatchClock(20);
    const log: string[] = [];
    const moved = recorder('moved', log);
    const cancelled = recorder('cancelled', log);
    clock.schedule(moved, Date.now() + 20);
    clock.schedule(moved, Date.now() + 120);
    clock.schedule(cancelled, Date.now() + 20);
    clock.cancel(cancelled);
    expect(clock.size).toBe(1);
    await sleep(80);
    expect(log).toEqual([]);
    await sleep(150);
    expect(log).toEqual(['moved']);
  });

  test('a tick that comes late (a busy event loop) still calls everything that fell due meanwhile', async () => {
    const clock = new WatchClock(10);
    const log: string[] = [];
    for (let i = 0; i < 5; i++) clock.schedule(recorder(`d${i}`, log), Date.now() + 10 + i * 10);
    const busyUntil = Date.now() + 120;
    while (Date.now() < busyUntil); // holds the event loop past every due time
    await sleep(40);
    expect(log).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
  });

  test('something scheduled from its own callback runs again; the timer stops when nothing is left, and restarts', async () => {
    const clock = new WatchClock(10);
    let calls = 0;
    const repeating: Due = {
      due: (now) => {
        calls++;
        if (calls < 3) clock.schedule(repeating, now + 10);
      },
    };
    clock.schedule(repeating, Date.now());
    await sleep(150);
    expect(calls).toBe(3);
    expect(clock.size).toBe(0);
    const log: string[] = [];
    clock.schedule(recorder('again', log), Date.now() + 10);
    await sleep(60);
    expect(log).toEqual(['again']);
  });
});
