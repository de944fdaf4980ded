import { beginForegroundRequest, foregroundRequests } from '../../../master/api/foreground-requests';
import { sliceBudgetMs } from '../../../master/api/watch-stream';

describe('watch fan-out slices', () => {
  test('short while requests are answered, full when idle or when a stream has waited long', () => {
    expect(sliceBudgetMs(0, 0)).toBe(2);
    expect(sliceBudgetMs(3, 5)).toBe(0.25);
    expect(sliceBudgetMs(3, 99)).toBe(0.25);
    expect(sliceBudgetMs(3, 100)).toBe(2);
  });

  test('a request counts until it ends, once, however often end is called', () => {
    const before = foregroundRequests();
    const a = beginForegroundRequest();
    const b = beginForegroundRequest();
    expect(foregroundRequests()).toBe(before + 2);
    a.end();
    a.end(); // a watch ends its count when it starts streaming, and again when it is over
    expect(foregroundRequests()).toBe(before + 1);
    b.end();
    expect(foregroundRequests()).toBe(before);
  });
});
