"""Exporting units to files (GeoJSON, GeoPackage)."""

from shapely import wkb

from .boundary_io import write_units


def units_export(*, units, fmt: str, crs: str) -> tuple[bytes, int]:
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "name_en": u.name_en,
            "level": u.level,
            "parent_code": u.parent_code,
            "valid_from": u.valid_from.isoformat(),
            "valid_to": u.valid_to.isoformat() if u.valid_to else None,
            "area_m2": round(u.area_m2, 1),
            "geometry": wkb.loads(bytes(u.boundary.wkb)),
        }
        for u in units.order_by("code")
    ]
    return write_units(rows, fmt=fmt, crs=crs), len(rows)
