"""Monitoring devices on project sites: the evidence behind a project's reported status.

Every project under construction, and a third of this year's completed ones (still metered for
acceptance), has a power meter, a labour gate and one to three cameras; every project with a
parcel is watched by satellite.
"""

from __future__ import annotations

import random
from typing import Any

from connectors import camera, labor, power, satellite
from graph_schema.model import ProjectStage
from hub.demo.projects import Draft


def sensor_dicts(rng: random.Random, drafts: list[Draft]) -> list[dict[str, Any]]:
    """Raw ``sensor`` records; ids are ``<kind>-<the project code's random tail>``."""
    rows: list[dict[str, Any]] = []
    for d in drafts:
        short = d.code.rsplit("-", 1)[1]
        on_site = d.stage is ProjectStage.CONSTRUCTION or (
            d.stage is ProjectStage.COMPLETED and rng.random() < 0.33
        )
        if on_site:
            rows.append(_row(f"pwr-{short}", power.KIND, d, "施工用电计量电表", "kWh"))
            gate = _row(f"lab-{short}", labor.KIND, d, "劳务实名制闸机", "person")
            # A gate reports passes, not a heartbeat: silent all night is normal, a whole
            # day is not.
            gate["stale_after_s"] = 86400
            rows.append(gate)
            for n in range(1, rng.choice((1, 2, 2, 3)) + 1):
                rows.append(_row(f"cam-{short}-{n}", camera.KIND, d, f"工地视频监控{n}号", None))
        if d.parcel_ids:
            sat = _row(f"sat-{short}", satellite.KIND, d, "卫星遥感变化监测", None)
            # Sentinel-2 revisits every 5 days and clouds hide many passes: silent for a week
            # is normal, for twelve days it is worth a look.
            sat["stale_after_s"] = 12 * 86400
            rows.append(sat)
    return rows


def _row(sensor_id: str, kind: str, d: Draft, what: str, unit: str | None) -> dict[str, Any]:
    return {
        "id": sensor_id,
        "kind": kind,
        "project_code": d.code,
        "name": f"{d.name} {what}",
        "unit": unit,
    }
