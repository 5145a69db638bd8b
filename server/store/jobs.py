"""Job rows."""

from server.store.records import Records
from server.store.tables import jobs

JOBS = Records(jobs, "jb")
