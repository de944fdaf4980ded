import type { Node } from 'kubernetes-types/core/v1';
import { KubeClient, type WatchHandle } from '../../kube/client';
import { currentContext, type CurrentContext } from '../../kube/kubeconfig-file';
import type { KubeList, WatchEvent } from '../../kube/object';
import { core } from '../../kube/resource-path';
import type { StandinLog } from './standin-log';

/**
 * The few Node calls flanneld makes, over lotse's KubeClient with the credential of a kubeconfig
 * file. The token is read again before every call and after every 401, as client-go does with a
 * tokenFile: a node credential is renewed by rewriting that file.
 */
export class NodeApi {
  private readonly client: KubeClient;
  private token: string;
  private refreshFailure = '';

  constructor(
    private readonly kubeconfigFile: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: StandinLog,
  ) {
    const ctx = this.readContext();
    if (!ctx.ca) throw new Error(`kubeconfig ${kubeconfigFile}: cluster "${ctx.cluster}" has no certificate-authority or certificate-authority-data`);
    if (!ctx.token) throw new Error(`kubeconfig ${kubeconfigFile}: user "${ctx.user}" has neither token nor tokenFile`);
    this.token = ctx.token;
    this.client = new KubeClient({ server: ctx.server, ca: ctx.ca, token: ctx.token, timeoutMs: 15_000, onUnauthorized: () => this.refreshToken() });
  }

  getNode(name: string): Promise<Node> {
    this.refreshToken();
    return this.client.get<Node>(core('nodes', undefined, name));
  }

  listNodes(): Promise<KubeList<Node>> {
    this.refreshToken();
    return this.client.list<Node>(core('nodes'));
  }

  watchNodes(resourceVersion: string, timeoutSeconds: number, onEvent: (e: WatchEvent<Node>) => void, onError: (err: Error) => void): WatchHandle {
    this.refreshToken();
    return this.client.watch<Node>(core('nodes'), { resourceVersion, timeoutSeconds, allowWatchBookmarks: true }, onEvent, onError);
  }

  /** A strategic merge patch of the Node's status subresource (metadata travels with it, as for PatchStatus). */
  patchNodeStatus(name: string, patch: object): Promise<Node> {
    this.refreshToken();
    return this.client.patch<Node>(core('nodes', undefined, name, 'status'), 'strategic', patch);
  }

  patchNode(name: string, patch: object): Promise<Node> {
    this.refreshToken();
    return this.client.patch<Node>(core('nodes', undefined, name), 'strategic', patch);
  }

  close(): void {
    this.client.close();
  }

  private readContext(): CurrentContext {
    try {
      return currentContext({ KUBECONFIG: this.kubeconfigFile, HOME: this.env.HOME });
    } catch (err) {
      throw new Error(`kubeconfig ${this.kubeconfigFile} (--kubeconfig-file): ${(err as Error).message}`);
    }
  }

  /** Takes up a rotated token; a file caught mid-rewrite keeps the last good token (logged once). */
  private refreshToken(): void {
    let token: string | undefined;
    try {
      token = this.readContext().token;
      this.refreshFailure = '';
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.refreshFailure) this.log(`re-reading the token failed, keeping the last one: ${message}`);
      this.refreshFailure = message;
      return;
    }
    if (token && token !== this.token) {
      this.token = token;
      this.client.setToken(token);
    }
  }
}
