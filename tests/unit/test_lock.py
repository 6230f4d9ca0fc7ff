"""constraints.txt (made by scripts/lock) must agree with setup.cfg.

An install goes through the lock (`pip install -c constraints.txt ...`); a requirement
the lock forgot, or pins at a version its specifier refuses, is either unpinned again or
an install that cannot resolve. Edit setup.cfg, then run scripts/lock.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
UNLOCKED_EXTRAS = {"semantic"}  # torch: its wheel depends on the machine


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def requirement_lines(value: str) -> list[Requirement]:
    return [Requirement(line) for line in value.strip().splitlines() if line.strip()]


def locked_extras() -> set[str]:
    return set(re.findall(r"--extra (\w+)", (ROOT / "scripts" / "lock").read_text()))


def lock_pins() -> dict[str, list[Version]]:
    """Every `name==version` of the lock by canonical name; a universal lock may pin one
    name at several versions behind environment markers."""
    pins: dict[str, list[Version]] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        spec = line.split("#", 1)[0].split(";", 1)[0].strip()
        if spec:
            name, version = spec.split("==")
            pins.setdefault(canonicalize_name(name), []).append(Version(version))
    return pins


def test_every_extra_but_semantic_is_locked() -> None:
    extras = set(setup_cfg()["options.extras_require"])
    assert locked_extras() == extras - UNLOCKED_EXTRAS


def test_every_requirement_is_pinned_in_the_lock_at_a_version_it_admits() -> None:
    config = setup_cfg()
    requirements = requirement_lines(config["options"]["install_requires"])
    for extra in sorted(locked_extras()):
        requirements += requirement_lines(config["options.extras_require"][extra])
    pins = lock_pins()
    disagreements = []
    for requirement in requirements:
        versions = pins.get(canonicalize_name(requirement.name), [])
        if not versions:
            disagreements.append(f"{requirement} is not in the lock")
        for version in versions:
            if not requirement.specifier.contains(version, prereleases=True):
                disagreements.append(f"{requirement} does not admit the locked {version}")
    assert disagreements == [], "run scripts/lock after editing setup.cfg"
