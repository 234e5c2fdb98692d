"""What a new token may be granted: a role plus a scope that makes sense for it.

Shared by `POST /api/v1/tokens` and `citybrain token create` so the shell and the API refuse the same
things. Cells may be given at any H3 resolution up to the platform's (`ingest.geo.CELL_RESOLUTION`);
coarser cells (a district) are expanded to their children so scope checks stay exact string matches.
"""

from __future__ import annotations

import h3

from brain_api.security.roles import Role
from ingest.geo import CELL_RESOLUTION
from streams.topics import DEPARTMENTS

MAX_SCOPE_CELLS = 50_000


class InvalidGrant(ValueError):
    """The requested role/department/cells combination is not a valid token scope."""


def normalise_cells(cells: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Valid H3 cells at the platform resolution, sorted and unique.

    >>> len(normalise_cells(["85309a43fffffff"]))   # one resolution-5 district -> 7**3 cells
    343
    >>> normalise_cells(["not-a-cell"])
    Traceback (most recent call last):
    ...
    brain_api.security.grants.InvalidGrant: 'not-a-cell' is not an H3 cell
    """
    out: set[str] = set()
    for cell in cells:
        if not isinstance(cell, str) or not h3.is_valid_cell(cell):
            raise InvalidGrant(f"{cell!r} is not an H3 cell")
        res = h3.get_resolution(cell)
        if res > CELL_RESOLUTION:
            raise InvalidGrant(f"{cell!r} is finer than the platform resolution {CELL_RESOLUTION}")
        out.update([cell] if res == CELL_RESOLUTION else h3.cell_to_children(cell, CELL_RESOLUTION))
        if len(out) > MAX_SCOPE_CELLS:
            raise InvalidGrant(f"scope covers more than {MAX_SCOPE_CELLS} cells; use a broader role")
    return tuple(sorted(out))


def check_grant(
    role: Role, department: str | None, cells: tuple[str, ...]
) -> tuple[str | None, tuple[str, ...]]:
    """Validate a scope and return it normalised; a department token needs a department, a grid worker cells.

    >>> check_grant(Role.department, "traffic", ())
    ('traffic', ())
    >>> check_grant(Role.operator, "traffic", ())
    Traceback (most recent call last):
    ...
    brain_api.security.grants.InvalidGrant: only department tokens carry a department
    """
    if role is Role.department:
        if department not in DEPARTMENTS:
            raise InvalidGrant(f"department must be one of {', '.join(DEPARTMENTS)}")
    elif department:
        raise InvalidGrant("only department tokens carry a department")
    if role is Role.grid_worker:
        if not cells:
            raise InvalidGrant("a grid-worker token needs at least one cell")
        return None, normalise_cells(cells)
    if cells:
        raise InvalidGrant("only grid-worker tokens carry cells")
    return department, ()
