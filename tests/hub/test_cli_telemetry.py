"""`hub import-power` and `hub import-labor` as an operator runs them: a subprocess on the
embedded stores of a data dir, against the graph's registered sensors."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub import cli
from tests.hub.test_monitoring import _seed

ROOT = Path(__file__).resolve().parents[2]


def _hub(data: Path, *args: str, salt: str | None = "cli-salt") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATA_DIR": str(data), "HUB_LOG_LEVEL": "WARNING",
           "COLUMNS": "200"}  # fmt: skip
    env.pop("HUB_TELEMETRY_LABOR_SALT", None)
    if salt is not None:
        env["HUB_TELEMETRY_LABOR_SALT"] = salt
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    data: Path,
    *args: str,
    salt: str | None = "cli-salt",
) -> tuple[int, str]:
    """The same command through main() in this process (no interpreter start-up and imports):
    its exit status and what it wrote to stderr."""
    monkeypatch.setenv("HUB_DATA_DIR", str(data))
    monkeypatch.setenv("HUB_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("HUB_TELEMETRY_LABOR_SALT", raising=False)
    if salt is not None:
        monkeypatch.setenv("HUB_TELEMETRY_LABOR_SALT", salt)
    monkeypatch.chdir(data.parent)  # no stray .env
    monkeypatch.setattr(cli.console, "width", 200)  # what COLUMNS=200 does for the subprocess
    capsys.readouterr()
    code = cli.main(list(args))
    return code, capsys.readouterr().err


def test_power_csv_import_is_idempotent_and_names_bad_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    asyncio.run(_seed(data / "graph"))
    csv = tmp_path / "meters.csv"
    day = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    old = (dt.date.today() - dt.timedelta(days=800)).isoformat()  # beyond 400 days' retention
    csv.write_text(
        "表号,抄表时间,类型,示数,单位,倍率\n"
        f"pwr-mon-a,{day} 08:00,interval,1.5,kWh,2\n"
        f"pwr-mon-a,{day} 08:15:00+08:00,interval,2.5,kWh,\n"
        f"pwr-mon-zz,{day} 08:00,interval,1.0,kWh,1\n"
        f"pwr-mon-a,{day} 08:30,interval,lots,kWh,1\n"
        f"pwr-mon-a,{old} 08:30,interval,1.0,kWh,1\n",
        encoding="utf-8",
    )
    first = _hub(data, "import-power", str(csv))
    assert first.returncode == 3, first.stderr
    row = next(line for line in first.stderr.splitlines() if "meters.csv" in line and "│" in line)
    assert [c.strip() for c in row.split("│")[2:6]] == ["5", "2", "0", "3"]
    assert "power-csv:meters.csv:4: UNKNOWN_SENSOR" in first.stderr
    assert "power-csv:meters.csv:5: INVALID" in first.stderr
    assert "power-csv:meters.csv:6: EXPIRED" in first.stderr
    # The second run through main() in this process: the same command, the same stores.
    code, again = _in_process(monkeypatch, capsys, data, "import-power", str(csv))
    assert code == 3, again
    row = next(line for line in again.splitlines() if "meters.csv" in line and "│" in line)
    assert [c.strip() for c in row.split("│")[2:6]] == ["5", "0", "2", "3"]


def test_labor_exports_from_a_directory_are_hashed_and_archived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    asyncio.run(_seed(data / "graph"))
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    day = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    events = [
        {"gate_id": "lab-mon-a", "worker_id": "330106199001011234", "name": "张三",
         "direction": "进", "timestamp": f"{day} 07:30:00"},
        {"gate_id": "lab-mon-a", "worker_id": "330106199001011234", "name": "张三",
         "direction": "出", "timestamp": f"{day} 17:30:00"},
    ]  # fmt: skip
    (inbox / f"{day}.json").write_text(json.dumps(events, ensure_ascii=False), "utf-8")
    code, refused = _in_process(monkeypatch, capsys, data, "import-labor", "--dir", str(inbox),
                                salt=None)  # fmt: skip
    assert code == 2 and "HUB_TELEMETRY_LABOR_SALT" in refused
    assert list(inbox.iterdir())  # refused: nothing imported, nothing moved
    done = _hub(data, "import-labor", "--dir", str(inbox), "--archive", str(archive))
    assert done.returncode == 0, done.stderr
    assert not list(inbox.iterdir()) and (archive / f"{day}.json").exists()
    # Nothing personal reached the telemetry file.
    raw = (data / "telemetry.db").read_bytes() + b"".join(
        p.read_bytes() for p in data.glob("telemetry.db-*")
    )
    assert "张三".encode() not in raw and b"330106199001011234" not in raw
