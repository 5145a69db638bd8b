"""A connection's writes within one step of the event loop leave in one send."""

from __future__ import annotations

import asyncio

from server.middleware.connections import _Coalescing


class Recording:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def write_eof(self) -> None:
        self.events.append("eof")

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_one_steps_writes_are_sent_together_at_its_end():
    async def scenario() -> list[bytes]:
        real = Recording()
        transport = _Coalescing(real, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"{}")
        assert real.sent == []
        assert transport.get_write_buffer_size() == 21
        await asyncio.sleep(0)
        transport.write(b"next")
        await asyncio.sleep(0)
        return real.sent

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"next"]


def test_what_is_pending_goes_out_before_a_close_or_a_half_close():
    async def scenario() -> Recording:
        real = Recording()
        transport = _Coalescing(real, asyncio.get_running_loop())
        transport.write(b"answer")
        transport.write_eof()
        transport.write(b"late")
        transport.close()
        await asyncio.sleep(0)
        return real

    real = asyncio.run(scenario())
    assert real.sent == [b"answer", b"late"]
    assert real.events == ["eof", "close"]


def test_the_rest_is_the_real_transports():
    async def scenario() -> str:
        transport = _Coalescing(Recording(), asyncio.get_running_loop())
        return transport.get_extra_info("peername")

    assert asyncio.run(scenario()) == "info:peername"
