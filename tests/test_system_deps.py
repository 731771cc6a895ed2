"""`make test` on a fresh machine: scripts/system-deps checks the one list of system packages
(scripts/system-packages) that `.ci/run` and `make test` both use, and names what is missing in
one line with the command that installs it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def _copy(tmp_path: Path, extra: str = "") -> Path:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy2(SCRIPTS / "system-deps", scripts / "system-deps")
    listing = (SCRIPTS / "system-packages").read_text(encoding="utf-8") + extra
    (scripts / "system-packages").write_text(listing, encoding="utf-8")
    return scripts / "system-deps"


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_missing_package_is_named_in_one_line_with_its_install_command(tmp_path: Path) -> None:
    script = _copy(
        tmp_path,
        "no-such-package-a  no-such-command-a\nno-such-package-b  /no/such/path/*/bin/x\n",
    )
    done = _run(script, "--check")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no-such-package-a no-such-package-b" in lines[0]
    assert "apt-get install no-such-package-a no-such-package-b" in lines[0]


def test_this_machine_has_everything_the_suite_needs(tmp_path: Path) -> None:
    # The suite is running, so the real list must be satisfied (else its tests would fail
    # further down with less helpful errors).
    done = _run(_copy(tmp_path), "--check")
    assert (done.returncode, done.stderr) == (0, "")


def test_make_test_and_ci_use_the_one_list() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "./scripts/system-deps" in makefile
    test_target = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "system-deps" in test_target
    assert "./scripts/system-deps" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    packages = {
        line.split()[0]
        for line in (SCRIPTS / "system-packages").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"mosquitto", "mosquitto-clients", "postgresql", "chromium"} <= packages
    assert {"fonts-wqy-microhei", "nodejs", "npm", "make", "gcc"} <= packages
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme[readme.index("## Set-up") : readme.index("## Everyday commands")]
    assert all(f"`{p}`" in setup for p in packages), "README's set-up names every package"
