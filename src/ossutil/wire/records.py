"""``Record``: small immutable value classes without ``dataclasses``.

``import dataclasses`` pulls in ``inspect`` and every ``@dataclass`` compiles code at import time;
together that is a visible share of the CLI's start-up, so the types on the CLI's path derive from
this base instead. A subclass lists its fields in ``__slots__`` and gets keyword/positional
construction with defaults, ``==``, ``hash`` and a ``repr`` (fields named in ``_secret`` are
shown as ``'****'``).

    >>> class Point(Record):
    ...     __slots__ = ("x", "y")
    ...     _defaults = {"y": 0}
    >>> Point(1), Point(1) == Point(x=1, y=0)
    (Point(x=1, y=0), True)
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself is not imported: start-up cost
if TYPE_CHECKING:
    from typing import Any

_MISSING = object()


class Record:
    __slots__: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    _secret: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} arguments")
        values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {key!r}")
            values[key] = value
        for name in names:
            value = values.get(name, self._defaults.get(name, _MISSING))
            if value is _MISSING:
                raise TypeError(f"{type(self).__name__} missing field {name!r}")
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        parts = []
        for name in self.__slots__:
            value = getattr(self, name)
            shown = "'****'" if name in self._secret and value is not None else repr(value)
            parts.append(f"{name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"
