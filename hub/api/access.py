"""Who may read and write what, declared once and checked on the server.

Permissions attach to fields (Strawberry permission classes), so a field's visibility depends
on the caller's role without its resolver knowing; ``node(id)`` checks the same table per type.
Authentication (API keys, a later issue) decides the role; until then it is
``http.default_role``.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from hub.roles import WRITERS, Role

__all__ = ["MONITORING_READERS", "WRITERS", "allow", "may_read_type"]

# Banks see desensitized financing needs, never site monitoring.
MONITORING_READERS = frozenset(Role) - {Role.BANK}

# GraphQL type name → roles that may read it (types not listed: every role).
TYPE_READERS: dict[str, frozenset[Role]] = {"Sensor": MONITORING_READERS}


def may_read_type(role: Role, type_name: str) -> bool:
    return role in TYPE_READERS.get(type_name, frozenset(Role))


_CACHE: dict[frozenset[Role], type[BasePermission]] = {}


def allow(roles: frozenset[Role]) -> type[BasePermission]:
    """A permission class admitting exactly ``roles``; others get FORBIDDEN."""
    cached = _CACHE.get(roles)
    if cached is not None:
        return cached
    names = ", ".join(sorted(r.value for r in roles))

    class Allowed(BasePermission):
        message = f"this field needs one of the roles: {names}"
        error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
            return info.context.role in roles

    Allowed.__name__ = Allowed.__qualname__ = "Allow_" + "_".join(sorted(r.value for r in roles))
    _CACHE[roles] = Allowed
    return Allowed
