import { ApiError, callApi } from './api';
import { saveSession } from './session';
import { $ } from './view';

/**
 * The development sign-in behind a page's `#sign-in-form` (`POST /dev/sign-in`, README "The
 * checkout page"): saves the session, then runs `onSignedIn`; `say` shows what went wrong.
 */
export function wireDevSignIn(onSignedIn: (shopperId: string) => unknown, say: (message: string | undefined) => void): void {
  async function signIn(shopperId: string): Promise<void> {
    say(undefined);
    try {
      const answer = await callApi<{ shopperId: string; token: string }>('/dev/sign-in', { method: 'POST', body: { shopperId } });
      saveSession({ shopperId: answer.shopperId, token: answer.token });
      await onSignedIn(answer.shopperId);
    } catch (error) {
      if (error instanceof ApiError && error.problem.status === 404) {
        say('This server has no development sign-in; sign in through your identity provider.');
      } else {
        say(error instanceof Error ? error.message : String(error));
      }
    }
  }
  const form = $<HTMLFormElement>('#sign-in-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const shopperId = String(new FormData(form).get('shopperId') ?? '').trim();
    if (shopperId) void signIn(shopperId);
  });
}
