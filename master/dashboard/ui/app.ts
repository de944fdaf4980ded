/// <reference lib="dom" />
import type { Namespace, Pod } from 'kubernetes-types/core/v1';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Api } from './api';
import { EventsView } from './events-view';
import { Feeds, FeedsContext, paths, useFeeds } from './feeds';
import { html } from './html';
import { LogsPanel } from './logs-panel';
import { NodesView } from './nodes-view';
import { NotifyContext, type Notice } from './notices';
import { ServicesView } from './services-view';
import { forgetToken, saveToken, savedToken } from './session';
import { SignIn } from './sign-in';
import { WorkloadsView } from './workloads-view';

const views = ['workloads', 'nodes', 'services', 'events'] as const;
type View = (typeof views)[number];
const noticeMs = 6000;

export function App() {
  const [token, setToken] = useState<string | undefined>(savedToken());
  const [reason, setReason] = useState<string | undefined>();
  const signOut = useCallback((why?: string) => {
    forgetToken();
    setReason(why);
    setToken(undefined);
  }, []);
  if (!token) {
    return html`<${SignIn} reason=${reason} onSignedIn=${(t: string) => {
      saveToken(t);
      setReason(undefined);
      setToken(t);
    }} />`;
  }
  return html`<${Shell} key=${token} token=${token} signOut=${signOut} />`;
}

function Shell(props: { token: string; signOut: (why?: string) => void }) {
  const feeds = useMemo(() => new Feeds(new Api(props.token, (err) => props.signOut(`Signed out: the API no longer accepts this token (${err.summary()}).`))), [props.token]);
  useEffect(() => () => feeds.stop(), [feeds]);
  const view = useHashView();
  const now = useClock(5000);
  const [namespace, setNamespace] = useState('');
  const [logsOf, setLogsOf] = useState<Pod | undefined>();
  const [notices, setNotices] = useState<Notice[]>([]);
  const notify = useCallback((kind: Notice['kind'], text: string) => {
    const id = Date.now() + Math.random();
    setNotices((n) => [...n.slice(-2), { id, kind, text }]);
    setTimeout(() => setNotices((n) => n.filter((x) => x.id !== id)), noticeMs);
  }, []);

  return html`
    <${FeedsContext.Provider} value=${feeds}>
      <${NotifyContext.Provider} value=${notify}>
        <header class="top">
          <a class="brand" href="#workloads"><span class="logo">⎈</span> lotse</a>
          <nav>
            ${views.map((v) => html`<a href=${`#${v}`} class=${v === view ? 'active' : ''} aria-current=${v === view ? 'page' : undefined}>${v[0].toUpperCase() + v.slice(1)}</a>`)}
          </nav>
          <div class="tools">
            ${view !== 'nodes' && html`<${NamespacePicker} value=${namespace} onChange=${setNamespace} />`}
            <button type="button" class="quiet" onClick=${() => props.signOut()}>Sign out</button>
          </div>
        </header>
        <main class="content" data-view=${view}>
          ${view === 'workloads' && html`<${WorkloadsView} namespace=${namespace} now=${now} onLogs=${setLogsOf} />`}
          ${view === 'nodes' && html`<${NodesView} now=${now} />`}
          ${view === 'services' && html`<${ServicesView} namespace=${namespace} now=${now} />`}
          ${view === 'events' && html`<${EventsView} namespace=${namespace} now=${now} />`}
        </main>
        ${logsOf && html`<${LogsPanel} pod=${logsOf} onClose=${() => setLogsOf(undefined)} />`}
        <div class="notices" aria-live="polite">
          ${notices.map(
            (n) => html`<div key=${n.id} class=${`notice ${n.kind}`} role=${n.kind === 'error' ? 'alert' : 'status'} title="Click to dismiss"
              onClick=${() => setNotices((all) => all.filter((x) => x.id !== n.id))}>${n.text}</div>`,
          )}
        </div>
      <//>
    <//>
  `;
}

/** Lists namespaces once when shown: a watch would hold one of the browser's few connections. */
function NamespacePicker(props: { value: string; onChange: (ns: string) => void }) {
  const { api } = useFeeds();
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    api
      .get<{ items: Namespace[] }>(paths.namespaces)
      .then((list) => setNames(list.items.map((n) => n.metadata?.name ?? '').sort()))
      .catch(() => setNames([]));
  }, [api]);
  return html`
    <select aria-label="namespace" value=${props.value} onChange=${(e: Event) => props.onChange((e.target as HTMLSelectElement).value)}>
      <option value="">All namespaces</option>
      ${names.map((n) => html`<option value=${n}>${n}</option>`)}
    </select>
  `;
}

function useHashView(): View {
  const read = (): View => {
    const v = location.hash.slice(1) as View;
    return views.includes(v) ? v : 'workloads';
  };
  const [view, setView] = useState<View>(read);
  useEffect(() => {
    const onHash = (): void => setView(read());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return view;
}

/** Re-renders every few seconds so ages stay current without a reload. */
function useClock(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
