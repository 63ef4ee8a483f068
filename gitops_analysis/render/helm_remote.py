"""Charts from Helm repositories and OCI registries, through the chart cache.

Argo CD pulls a chart source (``repoURL`` + ``chart`` + ``targetRevision``) before it renders
it: ``helm pull --destination D --version V --repo URL CHART`` for an HTTP(S) Helm repository,
``helm pull oci://HOST/PATH/CHART --version V`` for an OCI registry (a ``repoURL`` with
``oci://`` or with no scheme, Argo CD's ``IsHelmOciRepo``), and renders the chart unpacked.
Here the pull goes through the renderer of the run (the helm binary, or the Helm library of
helm-python-sdk) and only with ``--allow-remote``.

The chart cache (``--chart-cache DIR``) keeps every archive fetched, one folder per (repository,
chart, version as written), and is read first: a chart found there renders with no network.
Archives are unpacked with :mod:`tarfile`'s ``data`` filter (no path outside the destination,
no links out, no devices) and size limits.

Plain HTTP to an OCI registry: only for a loopback host (``localhost``, 127.0.0.0/8, ``::1``),
with ``helm pull --plain-http`` (Helm >= 3.13; the library's ``plain_http``). Helm itself always
speaks HTTPS to a registry unless told, and Argo CD never tells it for a Helm source (its
``PullOCI`` passes only ``--insecure-skip-tls-verify``, from the repository's ``insecure``
credential; a plain-HTTP registry elsewhere is a repository setting, ``insecureOCIForceHttp``,
and repository credentials are not read here). A registry on this machine is a test or
development registry that serves no TLS, and a request to it leaves nothing through the network,
so it gets plain HTTP; every other registry gets HTTPS with certificate checks, as in Argo CD.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable

from gitops_analysis.render.helm_values import HelmFailure

MAX_CHART_BYTES = 256 << 20  # unpacked
MAX_CHART_MEMBERS = 20000
#: (argv, cwd) -> (exit code, stdout, stderr) of ``helm ...``
Runner = Callable[[list[str], str], tuple[int, str, str]]


def is_oci(repo_url: str) -> bool:
    """Argo CD ``helm.IsHelmOciRepo``: ``oci://``, or a URL with no scheme."""
    return repo_url.startswith("oci://") or "://" not in repo_url


def oci_ref(repo_url: str, chart: str) -> str:
    base = repo_url if repo_url.startswith("oci://") else "oci://" + repo_url
    return base.rstrip("/") + "/" + chart


def is_loopback(repo_url: str) -> bool:
    """The registry host of an OCI ``repoURL`` is this machine (plain HTTP: see the top)."""
    rest = repo_url.removeprefix("oci://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):  # [::1]:5000
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pull_args(repo_url: str, chart: str, version: str, destination: str) -> list[str]:
    """``helm pull`` as Argo CD runs it (``util/helm/cmd.go`` Fetch / PullOCI), with
    ``--plain-http`` for a registry on a loopback host."""
    args = ["pull", "--destination", destination]
    if version:
        args += ["--version", version]
    if is_oci(repo_url):
        return args + (["--plain-http"] if is_loopback(repo_url) else []) + \
            [oci_ref(repo_url, chart)]
    return args + ["--repo", repo_url, chart]


def cache_folder(cache_dir: str, repo_url: str, chart: str, version: str) -> str:
    key = json.dumps([repo_url.rstrip("/"), chart, version or "*"])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return os.path.join(cache_dir, f"{_safe(chart)}-{digest}")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60] or "chart"


def cached_archive(cache_dir: str, repo_url: str, chart: str, version: str) -> str | None:
    """The archive the cache holds for this (repository, chart, version), if any."""
    if not cache_dir:
        return None
    folder = cache_folder(cache_dir, repo_url, chart, version)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".tgz"))
    except OSError:
        return None
    return os.path.join(folder, names[0]) if names else None


def fetch_chart(repo_url: str, chart: str, version: str, *, cache_dir: str,
                allow_remote: bool, run: Runner, tmp: str) -> tuple[str, bool]:
    """(path of the chart archive, whether it came from the cache); HelmFailure with Helm's
    message when it cannot be pulled."""
    hit = cached_archive(cache_dir, repo_url, chart, version)
    if hit:
        return hit, True
    if not allow_remote:
        raise HelmFailure(f"chart {chart} {version or '(latest)'} from {repo_url} is not in the "
                          "chart cache and --allow-remote is not given")
    dest = tempfile.mkdtemp(prefix="pull-", dir=tmp)
    code, _, err = run(pull_args(repo_url, chart, version, dest), tmp)
    if code != 0:
        raise HelmFailure(err.strip().removeprefix("Error: ") or f"helm pull exited with {code}")
    names = sorted(n for n in os.listdir(dest) if n.endswith(".tgz"))
    if not names:
        raise HelmFailure(f"helm pull of {chart} from {repo_url} left no chart archive")
    archive = os.path.join(dest, names[0])
    if not cache_dir:
        return archive, False
    folder = cache_folder(cache_dir, repo_url, chart, version)
    os.makedirs(folder, exist_ok=True)
    staged = tempfile.mkdtemp(prefix=".incoming-", dir=folder)
    try:
        shutil.copyfile(archive, os.path.join(staged, names[0]))
        with open(os.path.join(staged, "origin.json"), "w", encoding="utf-8") as fh:
            json.dump({"repoURL": repo_url, "chart": chart, "targetRevision": version,
                       "archive": names[0]}, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(os.path.join(staged, "origin.json"), os.path.join(folder, "origin.json"))
        # the archive last: it is what a reader of the cache looks for
        os.replace(os.path.join(staged, names[0]), os.path.join(folder, names[0]))
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return os.path.join(folder, names[0]), False


def unpack(archive: str, dest: str) -> str:
    """The chart archive unpacked into ``dest``: the chart's folder (the archive's one top
    folder, as ``helm pull --untar`` leaves it)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = []
            size = 0
            for m in tar:
                members.append(m)
                size += max(m.size, 0)
                if len(members) > MAX_CHART_MEMBERS or size > MAX_CHART_BYTES:
                    raise HelmFailure(f"{os.path.basename(archive)}: larger than "
                                      f"{MAX_CHART_BYTES >> 20} MiB or {MAX_CHART_MEMBERS} "
                                      "files unpacked")
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise HelmFailure(f"{os.path.basename(archive)}: not a chart archive ({exc})") \
            from None
    tops = sorted(n for n in os.listdir(dest) if os.path.isdir(os.path.join(dest, n)))
    if len(tops) != 1:
        raise HelmFailure(f"{os.path.basename(archive)}: a chart archive holds one folder")
    return os.path.join(dest, tops[0])


def library_pull(argv: list[str], cwd: str) -> tuple[int, str, str]:
    """``helm pull`` (the flags of :func:`pull_args`, with or without the leading ``pull``)
    with the Helm library."""
    import helm_python

    if argv[:1] == ["pull"]:  # pull_args() names the command; helm_engine.run strips it
        argv = argv[1:]
    opts: dict[str, str] = {}
    flags = {"--destination": "destination", "--version": "version", "--repo": "repo_url"}
    positional = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--plain-http":
            opts["plain_http"] = "1"
        elif arg in flags and i < len(argv):
            opts[flags[arg]] = argv[i]
            i += 1
        elif not arg.startswith("-"):
            positional.append(arg)
    if len(positional) != 1:
        return 1, "", "Error: helm pull takes one chart\n"
    try:
        helm_python.pull(positional[0], destination=os.path.join(cwd, opts["destination"]),
                         version=opts.get("version") or None,
                         repo_url=opts.get("repo_url") or None,
                         plain_http=bool(opts.get("plain_http")))
    except (helm_python.HelmError, KeyError) as exc:
        return 1, "", f"Error: {exc}\n"
    return 0, "", ""


def pull_command(argv: list[str], cwd: str) -> str:
    """``helm pull`` as kustomize's helmCharts run it (``pull --untar --untardir DIR [--repo
    URL] NAME [--version V]``), through the chart cache of the run (environment
    ``GITOPS_ANALYSIS_CHART_CACHE``, ``GITOPS_ANALYSIS_ALLOW_REMOTE``)."""
    repo, version, untardir, chart = "", "", "", ""
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        name, eq, inline = arg.partition("=")
        if name in ("--repo", "--version", "--untardir", "--destination", "-d"):
            value = inline if eq else (argv[i] if i < len(argv) else "")
            i += 0 if eq else 1
            if name == "--repo":
                repo = value
            elif name == "--version":
                version = value
            else:
                untardir = value
        elif not arg.startswith("-"):
            chart = arg
    if chart.startswith("oci://"):
        repo, _, chart = chart.rpartition("/")
    tmp = tempfile.mkdtemp(prefix="gitops-analysis-pull-")
    try:
        archive, _ = fetch_chart(repo, chart, version,
                                 cache_dir=os.environ.get("GITOPS_ANALYSIS_CHART_CACHE", ""),
                                 allow_remote=os.environ.get("GITOPS_ANALYSIS_ALLOW_REMOTE") == "1",
                                 run=library_pull, tmp=tmp)
        target = os.path.join(cwd, untardir or ".")
        os.makedirs(target, exist_ok=True)
        unpacked = unpack(archive, tempfile.mkdtemp(prefix="unpack-", dir=tmp))
        shutil.move(unpacked, os.path.join(target, os.path.basename(unpacked)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ""
