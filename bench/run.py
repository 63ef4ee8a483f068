"""``make bench``: every comparison measured side by side in one run; writes bench/results.md.

- real: ``check`` on Kubeflow broken, cold (``--no-cache``) and warm (cached), each in a fresh
  interpreter, against a bare ``yaml.load_all(..., Loader=yaml.CSafeLoader)`` of the same files.
- scale: the synthetic fleet (bench/fleet.py, 1,000 resources per app) at 10^4, 10^5 and 10^6
  rows: time and peak RSS of each stage, and the fitted growth exponent.
- report: ``gitops-analysis report`` on Kubeflow broken, total and per notebook.
- diff: a git repository of ``BENCH_DIFF_APPS`` (default 120) kustomize apps whose head commit
  changes one file of one app: ``diff`` (render cache empty) against one cold ``check`` of the
  head (``render`` with an empty render cache, then ``check --no-cache``), each in fresh
  processes; the apps ``diff`` renders at the base are counted (only the changed app).

Targets (this 2-core machine): cold <= 0.5x and warm <= 0.05x the bare parse; at 10^6 rows all
stages together < 30 s and < 4 GiB peak RSS, growth exponent <= 1.1; Kubeflow report < 60 s;
diff < 2x the cold check of the head, rendering one app at the base.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KUBEFLOW = ROOT.parent / "shared" / "data" / "kubeflow-26.03" / "broken"
EXE = str(Path(sys.executable).with_name("gitops-analysis"))
SCALES = [int(x) for x in os.environ.get("BENCH_SCALES", "10000,100000,1000000").split(",")]
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))

# what stands in the way when a target is missed (from profiles of these runs)
_COLD_WAY = ("about 0.35 s of the total is starting Python and importing pandas, and the "
             "largest file (12 MB) is parsed by one worker")
_SCALE_WAY = ("Python work of about 25 us a document in the loader (rapidyaml parse, JSON, "
              "record, content hash) for a million documents on two cores")

_BARE = """
import glob, sys, time, yaml
t = time.perf_counter()
n = 0
for f in sorted(glob.glob(sys.argv[1] + "/rendered/*.yaml")):
    with open(f, encoding="utf-8") as fh:
        n += sum(1 for d in yaml.load_all(fh.read(), Loader=yaml.CSafeLoader) if d is not None)
print(time.perf_counter() - t, n)
"""

_STAGES = """
import json, resource, sys, time
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out = {}
t = time.perf_counter()
import gitops_analysis as ga
from gitops_analysis.analysis import overlap
from gitops_analysis.analysis.dependencies import propagate_failures
ds = ga.load_dataset(sys.argv[1])
out["load"] = (time.perf_counter() - t, rss())
t = time.perf_counter(); f = ga.run_rules(ds); out["rules"] = (time.perf_counter() - t, rss())
t = time.perf_counter(); g = ga.wave_graph(ds, f); out["graph"] = (time.perf_counter() - t, rss())
t = time.perf_counter()
keys = overlap.shared_keys(ds); pairs = overlap.overlap_pairs(ds, keys)
out["overlap"] = (time.perf_counter() - t, rss())
t = time.perf_counter()
radius = {a: len(ga.blast_radius(g, a)) for a in sorted(g.nodes)[:50]}
out["cascade"] = (time.perf_counter() - t, rss())
out["rows"] = len(ds.resources)
out["findings"] = len(f)
print(json.dumps(out))
"""


def _time_cmd(args: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - t


def bench_real(rows: list[str]) -> dict:
    if not KUBEFLOW.is_dir():
        rows.append("| real | Kubeflow dataset absent (../shared): skipped | | |")
        return {}
    bare = min(float(subprocess.run([sys.executable, "-c", _BARE, str(KUBEFLOW)],
                                    capture_output=True, text=True, check=True).stdout.split()[0])
               for _ in range(REPEAT))
    with tempfile.TemporaryDirectory() as cache:
        env = {"GITOPS_ANALYSIS_CACHE": cache}
        cold = min(_time_cmd([EXE, "check", str(KUBEFLOW), "--no-cache"], env)
                   for _ in range(REPEAT))
        _time_cmd([EXE, "check", str(KUBEFLOW)], env)  # fill the cache
        warm = min(_time_cmd([EXE, "check", str(KUBEFLOW)], env) for _ in range(REPEAT))
    res = {"bare": bare, "cold": cold, "warm": warm}
    rows.append(f"| bare CSafeLoader parse, Kubeflow broken (21 MB, 1,113 docs) | {bare:.2f} s "
                "| reference | |")
    rows.append(f"| check cold (--no-cache), fresh process | {cold:.2f} s | {cold / bare:.2f}x "
                f"| <= 0.5x: {'met' if cold <= 0.5 * bare else 'MISSED: ' + _COLD_WAY} |")
    rows.append(f"| check warm (cached), fresh process | {warm:.3f} s | {warm / bare:.3f}x "
                f"| <= 0.05x: {'met' if warm <= 0.05 * bare else 'MISSED'} |")
    return res


def bench_scale(rows: list[str]) -> dict:
    sys.path.insert(0, str(HERE))
    from fleet import generate

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SCALES:
            apps = max(1, n // 1000)
            folder = Path(tmp) / f"fleet-{n}"
            generate(folder, apps, 1000, shared=5, late_every=3)
            proc = subprocess.run([sys.executable, "-c", _STAGES, str(folder)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                rows.append(f"| scale {n:,} rows | failed: {proc.stderr.strip()[-200:]} | | |")
                continue
            results[n] = json.loads(proc.stdout)
            import shutil

            shutil.rmtree(folder)
    stages = ["load", "rules", "graph", "overlap", "cascade"]
    for n, r in results.items():
        total = sum(r[s][0] for s in stages)
        peak = max(r[s][1] for s in stages)
        detail = ", ".join(f"{s} {r[s][0]:.2f} s" for s in stages)
        ok = "" if n != 1_000_000 else (
            f"< 30 s: {'met' if total < 30 else 'MISSED: ' + _SCALE_WAY}; < 4 GiB: "
            f"{'met' if peak < 4 * 2**30 else 'MISSED'}")
        rows.append(f"| scale {r['rows']:,} rows ({r['findings']:,} findings): {detail} | "
                    f"{total:.2f} s | peak RSS {peak / 2**30:.2f} GiB | {ok} |")
    if len(results) >= 2:
        xs = [math.log(n) for n in results]
        ys = [math.log(sum(results[n][s][0] for s in stages)) for n in results]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        rows.append(f"| growth exponent (time ~ rows^k, fitted over {len(results)} sizes) | "
                    f"k = {slope:.2f} | | <= 1.1: {'met' if slope <= 1.1 else 'MISSED'} |")
        results["exponent"] = slope
    return results


def bench_report(rows: list[str]) -> dict:
    if not KUBEFLOW.is_dir():
        return {}
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        proc = subprocess.run([EXE, "report", str(KUBEFLOW), "--out", out], capture_output=True,
                              text=True, check=False)
        total = time.perf_counter() - t
    import re

    # "[1/4] 01-inventory ... ok (2.3 s)", with the kernel's own chatter in between
    per = re.findall(r"\[\d/\d\] (\S+) \.\.\..*?ok \(([\d.]+) s\)", proc.stderr, re.S)
    rows.append(f"| report on Kubeflow broken (4 notebooks) | {total:.1f} s | "
                f"{', '.join(f'{n} {t} s' for n, t in per)} | "
                f"< 60 s: {'met' if total < 60 and proc.returncode == 0 else 'MISSED'} |")
    return {"report": total}


DIFF_APPS = int(os.environ.get("BENCH_DIFF_APPS", "120"))
_KUSTOMIZATION = "resources:\n- deployment.yaml\n- config.yaml\n- service.yaml\n"
_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def diff_repository(repo: Path, apps: int) -> None:
    """``apps`` kustomize apps in 10 teams, committed; then one file of app-0003 changed."""
    sys.path.insert(0, str(HERE))
    from fleet import APP, CM, DEPLOY

    # the fleet's Application, creating its namespace instead of syncing automatically
    diff_app = APP.replace("    automated: {{}}\n", "    syncOptions: [CreateNamespace=true]\n")

    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "bench@example.com")
    _git(repo, "config", "user.name", "bench")
    for i in range(apps):
        name, team = f"app-{i:04d}", i % 10
        folder = repo / "apps" / name
        folder.mkdir(parents=True)
        (repo / "applications").mkdir(exist_ok=True)
        (repo / "applications" / f"{name}.yaml").write_text(
            diff_app.format(name=name, wave=i % 3, namespace=f"team-{team}"))
        (folder / "kustomization.yaml").write_text(_KUSTOMIZATION)
        (folder / "deployment.yaml").write_text(
            DEPLOY.format(name=name, namespace=f"team-{team}", i=i))
        (folder / "config.yaml").write_text(
            CM.format(name=f"{name}-config", namespace=f"team-{team}", app=name, value=i, i=i))
        (folder / "service.yaml").write_text(_SERVICE.format(name=name))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    cm = repo / "apps" / "app-0003" / "config.yaml"
    cm.write_text(cm.read_text().replace("other: value-3", "other: changed"))
    _git(repo, "commit", "-q", "-am", "head: one file of one app")


def bench_diff(rows: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        diff_repository(repo, DIFF_APPS)
        colds, diffs, rendered = [], [], set()
        for n in range(REPEAT):
            env = {"GITOPS_ANALYSIS_CACHE": f"{tmp}/cache-check-{n}"}
            t = time.perf_counter()
            _time_cmd([EXE, "render", str(repo), "--out", f"{tmp}/ds-{n}"], env)
            _time_cmd([EXE, "check", f"{tmp}/ds-{n}", "--no-cache", "--fail-on", "never"], env)
            colds.append(time.perf_counter() - t)
            t = time.perf_counter()
            proc = subprocess.run([EXE, "diff", str(repo), "--base", "HEAD~1", "--head", "HEAD",
                                   "--format", "json", "--fail-on", "never"],
                                  capture_output=True, text=True, check=False,
                                  env={**os.environ, "GITOPS_ANALYSIS_CACHE":
                                       f"{tmp}/cache-diff-{n}"})
            diffs.append(time.perf_counter() - t)
            if proc.returncode != 0:
                rows.append(f"| diff, {DIFF_APPS} kustomize apps | failed: "
                            f"{proc.stderr.strip()[-200:]} | | |")
                return {}
            doc = json.loads(proc.stdout)
            rendered.add((doc["head"]["apps_rendered"], doc["base"]["apps_rendered"],
                          doc["base"]["apps_reused"]))
    cold, diff = min(colds), min(diffs)
    (head_n, base_n, reused), = rendered
    rows.append(f"| cold check of the head ({DIFF_APPS} kustomize apps: render with an empty "
                f"render cache, then check --no-cache) | {cold:.2f} s | reference | |")
    ok = diff < 2 * cold and base_n == 1
    rows.append(f"| diff, one file of one app changed (empty render cache): head {head_n} apps "
                f"rendered, base {base_n} rendered and {reused} as at the head | {diff:.2f} s | "
                f"{diff / cold:.2f}x | < 2x, one app rendered at the base: "
                f"{'met' if ok else 'MISSED'} |")
    return {"cold_check": cold, "diff": diff, "base_rendered": base_n}


def main() -> None:
    rows = ["| measurement | time | ratio / detail | target |", "|---|---|---|---|"]
    bench_real(rows)
    bench_report(rows)
    bench_diff(rows)
    bench_scale(rows)
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    text = "# Benchmark results\n\nMeasured by `make bench` on " + machine + \
        ".\n\n" + "\n".join(rows) + "\n"
    print(text)
    (HERE / "results.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
