"""`lazy`: an attribute computed when first read and kept on the instance.

It is `functools.cached_property` without the lock Python 3.11's takes: one lock per property for
all instances, so threads reading the property of different objects wait on each other (a unit of
work's `now`, which reads the sandbox's clock from the database, was read one thread at a time).
Each object here is used by one thread, which needs no lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class lazy(Generic[T]):  # noqa: N801 - used as a decorator, named as one
    def __init__(self, compute: Callable[[Any], T]):
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        value = self._compute(instance)
        # In the instance's namespace, which the next read finds before this descriptor.
        instance.__dict__[self._name] = value
        return value
