import { BreakerOpenError, createGatewayBreaker } from '../../activities/gateway-breaker';
import { neverReachedGateway } from '../../activities/payment-gateway';

class Unavailable extends Error {
  readonly reachedServer = true;
}

const options = { failureRate: 0.5, window: 4, minimumCalls: 4, coolDownMs: 200 };
const fail = () => Promise.reject(new Unavailable('HTTP 503'));
const answer = () => Promise.resolve('answer');

test('opens at the failure rate, refuses without sending, half-opens after the cool-down and closes on success', async () => {
  const breaker = createGatewayBreaker(options);
  await expect(breaker.run(answer)).resolves.toBe('answer');
  await expect(breaker.run(fail)).rejects.toBeInstanceOf(Unavailable);
  await expect(breaker.run(fail)).rejects.toBeInstanceOf(Unavailable);
  expect(breaker.isOpen()).toBe(false); // 3 calls: fewer than the minimum
  await expect(breaker.run(fail)).rejects.toBeInstanceOf(Unavailable);
  expect(breaker.isOpen()).toBe(true); // 3 of 4 failed: more than half

  let sent = 0;
  const refused = breaker.run(() => {
    sent += 1;
    return answer();
  });
  await expect(refused).rejects.toBeInstanceOf(BreakerOpenError);
  await refused.catch((error: unknown) => expect(neverReachedGateway(error)).toBe(true));
  expect(sent).toBe(0);

  await new Promise((resolve) => setTimeout(resolve, 250));
  expect(breaker.isOpen()).toBe(false); // half-open: one trial goes through
  await expect(breaker.run(answer)).resolves.toBe('answer');
  await expect(breaker.run(answer)).resolves.toBe('answer');
  expect(breaker.isOpen()).toBe(false);
});

test('a decline is an answer, not a failure; a failed half-open trial reopens it', async () => {
  const breaker = createGatewayBreaker(options);
  for (let i = 0; i < 10; i++) await breaker.run(() => Promise.resolve({ kind: 'declined' }));
  expect(breaker.isOpen()).toBe(false);
  for (let i = 0; i < 4; i++) await breaker.run(fail).catch(() => undefined);
  expect(breaker.isOpen()).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 250));
  await expect(breaker.run(fail)).rejects.toBeInstanceOf(Unavailable);
  expect(breaker.isOpen()).toBe(true);
});
