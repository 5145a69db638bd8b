"""server.core.lazy: computed once per instance, on first read, without a lock shared by all."""

from __future__ import annotations

import threading

from server.core.lazy import lazy


class Counted:
    computed = 0

    def __init__(self, value: int):
        self.value = value

    @lazy
    def doubled(self) -> int:
        """Twice the value."""
        Counted.computed += 1
        return 2 * self.value


def test_computed_on_first_read_once_per_instance():
    Counted.computed = 0
    one, two = Counted(1), Counted(5)
    assert Counted.computed == 0
    assert (one.doubled, one.doubled, two.doubled) == (2, 2, 10)
    assert Counted.computed == 2
    assert Counted.__dict__["doubled"].__doc__ == "Twice the value."


def test_a_value_set_on_the_instance_wins():
    given = Counted(1)
    given.doubled = 7
    assert given.doubled == 7


def test_one_instance_computing_does_not_hold_up_another():
    """Python 3.11's functools.cached_property would block the second read on the first."""
    entered, release = threading.Event(), threading.Event()

    class Slow:
        def __init__(self, blocks: bool):
            self.blocks = blocks

        @lazy
        def value(self) -> str:
            if self.blocks:
                entered.set()
                release.wait(5)
            return "done"

    blocked = threading.Thread(target=lambda: Slow(True).value)
    blocked.start()
    assert entered.wait(5)
    try:
        assert Slow(False).value == "done"  # while the other is still computing
        assert blocked.is_alive()
    finally:
        release.set()
        blocked.join()
