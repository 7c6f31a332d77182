"""The layout holds: apps import one way (docs/architecture.md) and the README's map of the code
names every module of every app."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = [
    "core",
    "basemap",
    "accounts",
    "territory",
    "notifications",
    "microgrids",
    "patrols",
    "cases",
    "open311",
    "command",
    "demo",
]
# What each app's code (not its tests) may never import.
FORBIDDEN = {
    "core": {
        "accounts",
        "territory",
        "notifications",
        "microgrids",
        "patrols",
        "cases",
        "open311",
        "command",
        "demo",
        "basemap",
    },
    # The streets under the maps: they know no unit, household or user model.
    "basemap": {
        "accounts",
        "territory",
        "notifications",
        "microgrids",
        "patrols",
        "cases",
        "open311",
        "command",
        "demo",
    },
    "territory": {"notifications", "microgrids", "patrols", "cases", "open311", "command", "demo"},
    # The outbox knows users and the phone mask (territory.privacy), never what it reports on.
    "notifications": {"microgrids", "patrols", "cases", "open311", "command", "demo"},
    "microgrids": {"patrols", "cases", "open311", "command", "demo"},
    "patrols": {"microgrids", "cases", "open311", "command", "demo"},
    # Open311 is a door onto the case flow, above it: the flow never knows which door.
    "cases": {"open311", "command", "demo"},
    "open311": {"microgrids", "command", "demo"},
    # The command screen reads everything below it; only the demo sits beside it.
    "command": {"demo"},
}


def _modules(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT / app).parts
        if parts[0] in ("tests", "migrations") or path.name == "__init__.py":
            continue
        yield path


def _imported(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_apps_import_one_way(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & FORBIDDEN[app])
        for path in _modules(app)
    }
    assert not {k: v for k, v in wrong.items() if v}


def test_the_readme_map_names_every_module():
    readme = (ROOT / "README.md").read_text()
    the_map = readme[readme.index("## A map of the code") : readme.index("## Settings")]
    missing = []
    for app in APPS:
        for path in _modules(app):
            name = path.stem if "commands" in path.parts else path.name
            if name != "apps.py" and name not in the_map:
                missing.append(str(path.relative_to(ROOT)))
    assert not missing


def test_make_test_runs_every_apps_tests():
    """pytest's testpaths (what `make test` and CI run) name every app that has tests: an app
    left out would have its tests silently skipped."""
    import tomllib

    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"
    ]["testpaths"]
    with_tests = sorted(p.parent.parent.name for p in ROOT.glob("*/tests/__init__.py"))
    assert not set(with_tests) - set(testpaths), sorted(set(with_tests) - set(testpaths))
