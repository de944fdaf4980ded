"""Drives Kubernetes' generated Python client (Debian's python3-kubernetes) against a cluster.

Usage: python-client.py KUBECONFIG version
       python-client.py KUBECONFIG watch NAMESPACE NAME   (prints events until NAME is MODIFIED)
       python-client.py KUBECONFIG exec NAMESPACE POD CMD...
"""
import json
import sys

from kubernetes import client, config, watch
from kubernetes.stream import stream


def main() -> None:
    config.load_kube_config(sys.argv[1])
    command = sys.argv[2]
    if command == "version":
        info = client.VersionApi().get_code()
        print(json.dumps({"gitVersion": info.git_version, "major": info.major, "minor": info.minor}))
    elif command == "watch":
        namespace, name = sys.argv[3], sys.argv[4]
        w = watch.Watch()
        for event in w.stream(client.CoreV1Api().list_namespaced_config_map, namespace, timeout_seconds=60):
            print(event["type"], event["object"].metadata.name, flush=True)
            if event["type"] == "MODIFIED" and event["object"].metadata.name == name:
                w.stop()
        print("END", flush=True)
    elif command == "exec":
        namespace, pod, argv = sys.argv[3], sys.argv[4], sys.argv[5:]
        out = stream(client.CoreV1Api().connect_get_namespaced_pod_exec, pod, namespace,
                     command=argv, stdout=True, stderr=True, stdin=False, tty=False)
        sys.stdout.write(out)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
