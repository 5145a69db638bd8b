"""`TEN99_COUNT_STATEMENTS`: each answer says what database work its request ran before the
answer started, in the header `Ten99-Database-Work: statements=4, transactions=1`."""

from __future__ import annotations

from server.store.statements import counting

HEADER = b"ten99-database-work"


class StatementCounts:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with counting() as counts:

            async def send_counted(message):
                if message["type"] == "http.response.start":
                    work = f"statements={counts.statements}, transactions={counts.transactions}"
                    headers = [*message.get("headers", ()), (HEADER, work.encode())]
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_counted)
