/// <reference lib="dom" />
import { h } from 'preact';
import htm from 'htm';

/** Tagged templates instead of JSX, so the UI needs no JSX transform and reads like HTML. */
export const html = htm.bind(h);
