"""Division codes and the levels of the territory (pure: no database).

Chinese administrative division codes: 6 digits for a city or county (411300 Nanyang,
411381 Dengzhou), 9 for a township/street (county code + 3), 12 for a village/community
(township code + 3). Grid codes extend the village code by 3 digits (15), micro-grid codes the
grid code by 2 (17).
"""

from dataclasses import dataclass


class Level:
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"
    MICROGRID = "microgrid"

    ORDER = (CITY, COUNTY, TOWNSHIP, VILLAGE, GRID, MICROGRID)


CODE_LENGTH = {
    Level.CITY: 6,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
    Level.GRID: 15,
    Level.MICROGRID: 17,
}


def child_level(level: str) -> str | None:
    index = Level.ORDER.index(level)
    return Level.ORDER[index + 1] if index + 1 < len(Level.ORDER) else None


def parent_level(level: str) -> str | None:
    index = Level.ORDER.index(level)
    return Level.ORDER[index - 1] if index > 0 else None


@dataclass(frozen=True)
class CodeProblem:
    message: str


def check_code(code: str, level: str, parent_code: str | None) -> CodeProblem | None:
    """Return why `code` cannot be a unit of `level` under `parent_code`, or None if it can."""
    if level not in CODE_LENGTH:
        return CodeProblem(f"unknown level {level!r}; expected one of {', '.join(Level.ORDER)}")
    if not isinstance(code, str) or not code.isdigit():
        return CodeProblem(f"code {code!r} must be digits only")
    expected = CODE_LENGTH[level]
    if len(code) != expected:
        return CodeProblem(f"a {level} code has {expected} digits, {code!r} has {len(code)}")
    if parent_code is None:
        return None
    if level == Level.COUNTY:
        # 411381 belongs to city 411300: same first four digits, city ends in 00.
        if code[:4] != parent_code[:4]:
            return CodeProblem(f"county {code} does not belong to city {parent_code}")
        return None
    if not code.startswith(parent_code):
        return CodeProblem(f"{level} code {code} does not extend its parent's code {parent_code}")
    return None
