"""``gitops-analysis report``: the main job, written into a folder of plain files.

For now it writes the inventory and the findings in every format; the notebooks (inventory,
overlap matrix, wave graph, incident write-up) join it as they are built.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import formats
from .argocdcm import health_check_configured
from .dataset import load_dataset
from .errors import UsageError
from .graph import blast_radius, wave_graph
from .rules import all_rules, run_rules


def write_report(dataset: str, out: str, *, app: str | None = None,
                 argocd_cm: str | None = None, cluster_api: str | None = None) -> int:
    ds = load_dataset(dataset, cluster_api=cluster_api)
    if app is not None and app not in set(ds.apps["name"]):
        raise UsageError(f"no app named {app!r} in the dataset", file=dataset,
                         todo="pick one of: " + ", ".join(ds.apps["name"]))
    configured = health_check_configured(argocd_cm) if argocd_cm else False
    findings = run_rules(ds, health_check_configured=configured)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    graph = wave_graph(ds, findings)
    files = {
        "inventory.txt": formats.inventory_text(ds),
        "check.txt": formats.findings_text(ds, findings),
        "check.json": formats.findings_json(ds, findings),
        "check.sarif": formats.findings_sarif(ds, findings, all_rules()),
        "cascade.txt": _cascade_text(graph, app),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    sys.stdout.write(formats.findings_text(ds, findings))
    sys.stdout.write(f"\nwrote {', '.join(str(folder / n) for n in files)}\n")
    return 0


def _cascade_text(graph, app: str | None) -> str:
    lines = ["wave  app                                  status    needs from"]
    for node, data in sorted(graph.nodes(data=True), key=lambda kv: (kv[1]["wave"], kv[0])):
        preds = sorted(graph.predecessors(node))
        lines.append(f"{data['wave']:>4}  {node:<36} {data['status']:<9} "
                     + ", ".join(f"{p} ({graph.edges[p, node]['order']})" for p in preds))
    lines.append("")
    chosen = [app] if app else [n for n, d in graph.nodes(data=True) if d["status"] == "failing"]
    for a in sorted(chosen):
        radius = blast_radius(graph, a)
        lines.append(f"blast radius of {a}: {len(radius)} apps: {', '.join(radius) or 'none'}")
    return "\n".join(lines) + "\n"
