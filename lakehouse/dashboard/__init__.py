"""The orders dashboard, locally: one self-contained HTML page built from the local marts.

The same visuals as the QuickSight dashboard (infra/terraform/modules/quicksight), from the
same definition (dashboard.json, see `spec`): `data` reads the marts and the audit tables,
`page` writes the HTML with Apache ECharts inlined. `build()` is what `lakehouse dashboard`
and the end of `lakehouse demo` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lakehouse_core.settings import Settings

DEFAULT_NAME = "dashboard.html"


@dataclass(frozen=True)
class BuiltDashboard:
    path: Path
    points: dict[str, int]  # data points per visual id
    overview: dict[str, object]

    @property
    def empty(self) -> list[str]:
        return [visual for visual, count in self.points.items() if count == 0]


def default_path(settings: Settings) -> Path:
    return settings.reports_dir / DEFAULT_NAME


def build(settings: Settings, out: Path | None = None) -> BuiltDashboard:
    """Read every visual's data and write the page; raises data.WarehouseMissingError without marts."""
    from lakehouse.dashboard import data, page, spec

    visuals = spec.visuals()
    with data.open_marts(settings) as marts:  # one connection for the build's queries
        overview = data.overview(marts)
        values = {v.id: data.read_visual(v.id, settings, marts) for v in visuals}
    path = out or default_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    built_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(page.render(visuals, values, overview, built_at), encoding="utf-8")
    tmp.replace(path)  # a server or browser never sees half a page
    points = {v.id: sum(len(s) for s in values[v.id]["series"].values()) for v in visuals}
    return BuiltDashboard(path=path, points=points, overview=overview)
