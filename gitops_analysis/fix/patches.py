"""The Application changes of a fix, as strategic-merge patches."""

from __future__ import annotations

import yaml

HEALTH_SNIPPET = """resource.customizations.health.argoproj.io_Application: |
  hs = {}
  hs.status = "Progressing"
  hs.message = ""
  if obj.status ~= nil and obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
  return hs
"""



def app_patch(ds, app: str, new_path: str) -> str:
    """The change to the Application: its source path, as a strategic-merge patch."""
    row = ds.app(app)
    patch = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
             "metadata": {"name": row["name"], "namespace": row["app_namespace"]},
             "spec": {"source": {"path": new_path}}}
    return yaml.safe_dump(patch, sort_keys=False)


def wave_patch(ds, app: str, wave: int) -> str:
    row = ds.app(app)
    patch = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
             "metadata": {"name": row["name"], "namespace": row["app_namespace"],
                          "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}}}
    return yaml.safe_dump(patch, sort_keys=False)
