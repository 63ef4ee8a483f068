"""A synthetic fleet in the dataset layout, for scale tests and for checking plots at 100 apps.

``python bench/fleet.py OUT --apps 100 --resources 1000`` writes OUT/apps/ and OUT/rendered/
with controlled structure, so every count is known in advance:

- every 10th app (app-000, app-010, ...) is a platform app in wave 0: it creates a namespace
  ``team-K`` and the CRDs ``WidgetK`` and ``GadgetK`` (group ``fleetK.example.com``);
- the other apps of its block (app-0K1 .. app-0K9) deploy into ``team-K``, use one Widget and
  one Gadget, and sit in waves 1..5;
- each app shares ``--shared`` ConfigMaps with the next app of its block (same name, same
  namespace): shared keys;
- every ``--late-every``-th block's platform app is moved to wave 6, so its consumers get
  crd-late and namespace-late findings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "{wave}"
spec:
  project: default
  source:
    repoURL: https://git.example/fleet.git
    path: apps/{name}
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: {namespace}
  syncPolicy:
    automated: {{}}
"""

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/name: {app}
data:
  key: "{value}"
  other: value-{i}
"""

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: registry.example/{name}:1.{i}
        args: ["--port=8080", "--verbose"]
"""

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{kind: {kind}, plural: {plural}, singular: {singular}, listKind: {kind}List}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
"""

CR = """apiVersion: {group}/v1
kind: {kind}
metadata:
  name: {name}
  namespace: {namespace}
spec:
  size: {i}
"""

NS = """apiVersion: v1
kind: Namespace
metadata:
  name: {name}
"""


def generate(out: Path, apps: int, resources: int, shared: int = 5, late_every: int = 0) -> dict:
    """Write the fleet; return the counts a correct analysis must find."""
    (out / "apps").mkdir(parents=True, exist_ok=True)
    (out / "rendered").mkdir(parents=True, exist_ok=True)
    expect = {"apps": apps, "documents": 0, "shared_keys": 0, "late_blocks": 0}
    for i in range(apps):
        name = f"app-{i:04d}"
        block, pos = divmod(i, 10)
        ns = f"team-{block}"
        group = f"fleet{block}.example.com"
        platform = pos == 0
        late = platform and late_every and block % late_every == 0 and block > 0
        wave = (6 if late else 0) if platform else 1 + pos % 5
        if late:
            expect["late_blocks"] += 1
        (out / "apps" / f"{name}.yaml").write_text(APP.format(name=name, wave=wave,
                                                              namespace=ns))
        docs = []
        if platform:
            docs.append(NS.format(name=ns))
            for kind in ("Widget", "Gadget"):
                docs.append(CRD.format(group=group, kind=f"{kind}{block}",
                                       plural=f"{kind.lower()}{block}s",
                                       singular=f"{kind.lower()}{block}"))
        else:
            for kind in ("Widget", "Gadget"):
                docs.append(CR.format(group=group, kind=f"{kind}{block}", name=name,
                                      namespace=ns, i=i))
        # shared with the next app of the block: both render the same ConfigMaps
        next_in_block = pos < 9 and i + 1 < apps
        prev_in_block = pos > 0
        if next_in_block:
            docs += [CM.format(name=f"shared-{i:04d}-{k}", namespace=ns, app="shared",
                               value="same", i=k) for k in range(shared)]
            expect["shared_keys"] += shared
        if prev_in_block:
            docs += [CM.format(name=f"shared-{i - 1:04d}-{k}", namespace=ns, app="shared",
                               value="same", i=k) for k in range(shared)]
        k = 0
        while len(docs) < resources:
            if k % 4 == 3:
                docs.append(DEPLOY.format(name=f"{name}-d{k}", namespace=ns, i=k))
            else:
                docs.append(CM.format(name=f"{name}-c{k}", namespace=ns, app=name,
                                      value=f"v{k}", i=k))
            k += 1
        expect["documents"] += len(docs)
        (out / "rendered" / f"{name}.yaml").write_text("---\n".join(docs))
    return expect


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--apps", type=int, default=100)
    p.add_argument("--resources", type=int, default=1000, help="resources per app")
    p.add_argument("--shared", type=int, default=5)
    p.add_argument("--late-every", type=int, default=3)
    a = p.parse_args()
    print(generate(Path(a.out), a.apps, a.resources, a.shared, a.late_every))


if __name__ == "__main__":
    main()
