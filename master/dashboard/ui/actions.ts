/// <reference lib="dom" />
import type { Api } from './api';

/** What the buttons do; the same requests kubectl scale, rollout restart and delete send. */
export const actions = {
  scale: (api: Api, ns: string, name: string, replicas: number) =>
    api.patch(`/apis/apps/v1/namespaces/${ns}/deployments/${name}/scale`, { spec: { replicas } }, 'merge'),
  restart: (api: Api, ns: string, name: string) =>
    api.patch(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } }, 'strategic'),
  deletePod: (api: Api, ns: string, name: string) => api.delete(`/api/v1/namespaces/${ns}/pods/${name}`),
};
