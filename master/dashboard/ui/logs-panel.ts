/// <reference lib="dom" />
import type { Pod } from 'kubernetes-types/core/v1';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, lines } from './api';
import { useFeeds } from './feeds';
import { html } from './html';

const maxLines = 5000;

/** Follows one container's log through the master, until closed or the stream ends. */
export function LogsPanel(props: { pod: Pod; onClose: () => void }) {
  const { api } = useFeeds();
  const containers = (props.pod.spec?.containers ?? []).map((c) => c.name);
  const [container, setContainer] = useState(containers[0] ?? '');
  const [text, setText] = useState<string[]>([]);
  const [state, setState] = useState<{ kind: 'connecting' | 'streaming' | 'ended' | 'error'; message?: string }>({ kind: 'connecting' });
  const pre = useRef<HTMLPreElement>(null);
  const ns = props.pod.metadata?.namespace ?? 'default';
  const name = props.pod.metadata?.name ?? '';

  useEffect(() => {
    const abort = new AbortController();
    setText([]);
    setState({ kind: 'connecting' });
    void (async () => {
      try {
        const body = await api.stream(`/api/v1/namespaces/${ns}/pods/${name}/log?follow=true&tailLines=500&container=${encodeURIComponent(container)}`, abort.signal);
        setState({ kind: 'streaming' });
        for await (const line of lines(body)) setText((t) => (t.length >= maxLines ? [...t.slice(-maxLines + 1), line] : [...t, line]));
        setState({ kind: 'ended' });
      } catch (err) {
        if (abort.signal.aborted) return;
        const e = err as Error;
        setState({ kind: 'error', message: err instanceof ApiError ? err.summary() : e.message });
      }
    })();
    return () => abort.abort();
  }, [ns, name, container]);

  useEffect(() => {
    const el = pre.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [text]);

  return html`
    <div class="overlay" onClick=${(e: Event) => e.target === e.currentTarget && props.onClose()}>
      <section class="card logs" role="dialog" aria-label=${`logs of ${name}`}>
        <header>
          <h2 class="mono">${ns}/${name}</h2>
          ${containers.length > 1 &&
          html`<select aria-label="container" value=${container} onChange=${(e: Event) => setContainer((e.target as HTMLSelectElement).value)}>
            ${containers.map((c) => html`<option value=${c}>${c}</option>`)}
          </select>`}
          <span class=${`badge ${state.kind === 'error' ? 'bad' : state.kind === 'streaming' ? 'ok' : 'idle'}`} data-testid="log-state">${state.kind}</span>
          <button type="button" onClick=${props.onClose}>Close</button>
        </header>
        ${state.kind === 'error' && html`<p class="error" role="alert" data-testid="log-error">The logs could not be read: ${state.message}</p>`}
        <pre ref=${pre} data-testid="log-text">${text.join('\n')}</pre>
      </section>
    </div>
  `;
}
