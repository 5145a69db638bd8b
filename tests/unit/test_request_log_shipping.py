"""A batch of packed requests on its way to `serve`'s request-log process: sent as its entries'
own strings, gathered by the system call, and read back by the process as they were."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import types

from server.middleware.request_log import _send_all
from server.worker.request_log_process import SHIPMENT, _Shipments, shipment

# Entries of different sizes, several times what a socket's buffer holds in all: most of the
# batch waits until the reader has taken what came before it.
BATCH = [bytes([n]) * (n * 4_999 + 1) for n in range(1, 60)]


def read_back(data: bytes) -> tuple[int, list[bytes]] | None:
    """The shipment in `data` as the process reads it."""
    handler = types.SimpleNamespace(rfile=io.BytesIO(data[SHIPMENT.size :]))
    received = _Shipments._batch(handler, data[: SHIPMENT.size])  # type: ignore[arg-type]
    return None if received is None else (received[0], [bytes(e) for e in received[1]])


def test_a_batch_larger_than_the_socket_holds_arrives_whole_and_in_order():
    sending, receiving = socket.socketpair()
    holds = sending.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    received = bytearray()

    def read_slowly() -> None:
        while chunk := receiving.recv(16_384):
            received.extend(chunk)

    reader = threading.Thread(target=read_slowly)
    reader.start()

    async def send() -> None:
        sending.setblocking(False)
        await _send_all(sending, shipment(7, BATCH))
        sending.close()

    asyncio.run(send())
    reader.join(timeout=30)
    receiving.close()
    assert len(received) > 3 * holds
    assert read_back(bytes(received)) == (7, BATCH)


def test_a_shipment_cut_off_or_not_ours_is_refused():
    whole = b"".join(shipment(3, BATCH[:3]))
    assert read_back(whole) == (3, BATCH[:3])
    assert read_back(whole[:-1]) is None  # its last entry cut short
    assert read_back(whole[: SHIPMENT.size + 5]) is None  # its sizes cut short
    assert read_back(SHIPMENT.pack(3, 10**9)) is None  # more entries than any batch holds
