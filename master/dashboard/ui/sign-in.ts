/// <reference lib="dom" />
import { useState } from 'preact/hooks';
import { html } from './html';
import { checkToken } from './session';

/** The token form; hands a token the API accepted to onSignedIn. */
export function SignIn(props: { onSignedIn: (token: string) => void; reason?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(props.reason);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError('Paste a bearer token first.');
    setBusy(true);
    setError(undefined);
    const refused = await checkToken(t);
    setBusy(false);
    if (refused) return setError(refused);
    props.onSignedIn(t);
  };

  return html`
    <main class="signin">
      <form class="card signin-card" onSubmit=${submit}>
        <h1><span class="logo">⎈</span> lotse</h1>
        <p class="muted">Sign in with a bearer token for this cluster. The admin token is in the kubeconfig that <code>lotse up</code> wrote.</p>
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button class="primary" type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </main>
  `;
}
