/// <reference lib="dom" />
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Api } from './api';
import { ResourceFeed, type FeedState, type KubeObject } from './resource-feed';

/** The feeds of one signed-in session, started on first use and shared by every view. */
export class Feeds {
  private readonly feeds = new Map<string, ResourceFeed<KubeObject>>();

  constructor(readonly api: Api) {}

  get<T extends KubeObject>(path: string): ResourceFeed<T> {
    let feed = this.feeds.get(path);
    if (!feed) {
      feed = new ResourceFeed<KubeObject>(this.api, path);
      this.feeds.set(path, feed);
    }
    return feed as unknown as ResourceFeed<T>;
  }

  stop(): void {
    for (const f of this.feeds.values()) f.stop();
    this.feeds.clear();
  }
}

export const FeedsContext = createContext<Feeds | undefined>(undefined);

export function useFeeds(): Feeds {
  const feeds = useContext(FeedsContext);
  if (!feeds) throw new Error('useFeeds outside a signed-in session');
  return feeds;
}

/** The live contents of a resource collection, re-rendering the caller on every change. */
export function useResource<T extends KubeObject>(path: string): FeedState<T> {
  const feed = useFeeds().get<T>(path);
  const [, setTick] = useState(0);
  useEffect(() => feed.subscribe(() => setTick((n) => n + 1)), [feed]);
  return feed.state();
}

export const paths = {
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  services: '/api/v1/services',
  endpoints: '/api/v1/endpoints',
  events: '/api/v1/events',
  namespaces: '/api/v1/namespaces',
  deployments: '/apis/apps/v1/deployments',
  replicasets: '/apis/apps/v1/replicasets',
};
