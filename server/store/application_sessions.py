"""Application session rows. The id is the hosted page's capability, so it is long."""

from __future__ import annotations

from sqlalchemy import Connection, select

from server.core.principals import Environment, Principal
from server.store.listing import owned
from server.store.records import Records, Repository
from server.store.tables import application_sessions

APPLICATION_SESSIONS = Records(application_sessions, "ias", id_length=32)


class ApplicationSessionRepository(Repository):
    records = APPLICATION_SESSIONS

    def locked(self, session_id: str) -> dict | None:
        """The session, its row locked until the transaction ends: one acceptance completes
        it."""
        query = owned(application_sessions, self.principal).where(
            application_sessions.c.id == session_id
        )
        row = self.connection.execute(query.with_for_update()).first()
        return None if row is None else APPLICATION_SESSIONS.record(row)


def owner_of(connection: Connection, session_id: str) -> Principal | None:
    """Whose session this is, for the hosted page, which has no API key: the id is the
    credential."""
    query = select(application_sessions.c.account_id, application_sessions.c.environment)
    row = connection.execute(query.where(application_sessions.c.id == session_id)).first()
    return None if row is None else Principal(row.account_id, Environment(row.environment))
