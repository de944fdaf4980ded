/// <reference lib="dom" />
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface Notice {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

export type Notify = (kind: Notice['kind'], text: string) => void;

export const NotifyContext = createContext<Notify>(() => undefined);

export function useNotify(): Notify {
  return useContext(NotifyContext);
}
