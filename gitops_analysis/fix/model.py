"""What a fix is: the plan and its proof."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class FixPlan:
    ownership: pd.DataFrame  # one row per shared key: owner, losers, reason
    drops: pd.DataFrame  # resources removed from apps that lose them
    namespace_fixes: pd.DataFrame  # resources given a namespace
    wave_changes: pd.DataFrame  # app, old_wave, new_wave, reason
    skip_dry_run: list[str]  # apps where reordering cannot help
    health_snippet: bool  # argocd-cm needs the Application health check
    kustomizations: dict[str, dict] = field(default_factory=dict)  # app -> proposal


@dataclass
class Proof:
    before: dict
    after: dict
    remaining: pd.DataFrame  # findings left that the fix was meant to clear, with reasons
    rendered: dict[str, dict] = field(default_factory=dict)  # app -> real render check
    # every error left after the fix (slug, app, message): those it was not meant to clear too
    errors: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"slug": [], "app": [], "message": []}))

    @property
    def ok(self) -> bool:
        return self.remaining.empty and all(r.get("ok", False) for r in self.rendered.values())
