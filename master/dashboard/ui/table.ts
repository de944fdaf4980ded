/// <reference lib="dom" />
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { html } from './html';

export interface Column<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  /** Extra class for the cell, e.g. "num" for right-aligned figures. */
  className?: string;
}

/**
 * A table that becomes a list of cards on narrow screens: each cell carries its column's label
 * (data-label), which the phone layout shows in front of the value.
 */
export function Table<T>(props: { columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string; empty: string; testId: string; loaded: boolean; error?: string }) {
  useEffect(() => {
    if (props.loaded) markFirstRender();
  }, [props.loaded]);
  return html`
    ${props.error && html`<p class="error" role="alert">${props.error}</p>`}
    <table class="grid" data-testid=${props.testId}>
      <thead>
        <tr>${props.columns.map((c) => html`<th class=${c.className}>${c.label}</th>`)}</tr>
      </thead>
      <tbody>
        ${props.rows.map(
          (row) => html`
            <tr key=${props.rowKey(row)} data-key=${props.rowKey(row)}>
              ${props.columns.map((c) => html`<td class=${c.className} data-label=${c.label}><div class="cell">${c.cell(row)}</div></td>`)}
            </tr>
          `,
        )}
      </tbody>
    </table>
    ${props.rows.length === 0 && html`<p class="empty">${props.loaded ? props.empty : 'Loading…'}</p>`}
  `;
}

export function Badge(props: { tone: string; text: string }) {
  return html`<span class=${`badge ${props.tone}`}>${props.text}</span>`;
}

export function Section(props: { title: string; count?: number; children?: ComponentChildren }) {
  return html`
    <section class="section">
      <h2>${props.title}${props.count !== undefined && html` <span class="count">${props.count}</span>`}</h2>
      ${props.children}
    </section>
  `;
}

let rendered = false;

/** Marks when the first table shows data, for the benchmark's first-render time. */
function markFirstRender(): void {
  if (rendered) return;
  rendered = true;
  performance.mark('lotse:first-render');
}
