"""The statements every request runs, compiled once and run on the database driver's cursor.

SQLAlchemy writes the SQL for the dialect and converts the values (JSON columns, booleans) with
its types' own processors; the driver then runs the SQL text as it is. Going through a SQLAlchemy
execution instead costs several times the statement itself (tens of microseconds of Python for
a statement SQLite runs in a few), and a request runs three of them. The statements keep to
what SQLAlchemy would do: the same SQL, the same conversions, in the connection's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Dialect, Table, bindparam
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import Label
from sqlalchemy.sql.selectable import CompoundSelect, Select

from server.store import statements

Processor = Callable[[Any], Any] | None
# Where a connection keeps the writes its unit of work holds back (store/deferred.py).
DEFERRED_WRITES = "ten99_deferred_writes"


def plain_read(statement: ClauseElement) -> bool:
    """Whether the statement only reads, locking nothing."""
    if isinstance(statement, CompoundSelect):
        return True
    # SQLAlchemy keeps FOR UPDATE in a private attribute, and offers no public way to ask.
    return isinstance(statement, Select) and statement._for_update_arg is None


class Prepared:
    """One statement: `run` binds values by name; `rows` reads what a SELECT returns."""

    def __init__(self, statement: ClauseElement, columns: Iterable[Column | Label]):
        self.statement = statement
        self.reads = plain_read(statement)
        self.columns = {column.name: column for column in columns}
        # By dialect and driver: psycopg and asyncpg write PostgreSQL's parameters differently.
        self._by_dialect: dict[tuple[str, str], tuple[str, Sequence[str] | None, dict, dict]] = {}
        self._results: dict[tuple, list[Processor]] = {}

    def _compiled(self, dialect: Dialect) -> tuple[str, Sequence[str] | None, dict, dict]:
        found = self._by_dialect.get((dialect.name, dialect.driver))
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            processors = {
                name: column.type.dialect_impl(dialect).bind_processor(dialect)
                for name, column in self.columns.items()
            }
            # SQLAlchemy types them on SQLCompiler, what a statement compiles to, not on Compiled.
            order = compiled.positiontup if compiled.positional else None  # type: ignore[attr-defined]
            # The values the statement itself carries (`status == "enabled"`).
            literals = {name: value for name, value in compiled.params.items() if value is not None}
            found = (compiled.string, order, processors, literals)
            self._by_dialect[(dialect.name, dialect.driver)] = found
        return found

    def bound(self, dialect: Dialect, values: dict[str, Any]) -> dict[str, Any]:
        """`values` as the driver takes them (converted by their columns' types), with the
        values the statement itself carries."""
        _sql, _order, processors, literals = self._compiled(dialect)
        bound = dict(literals)
        for name, value in values.items():
            process = processors.get(name)
            bound[name] = value if process is None or value is None else process(value)
        return bound

    def _params(self, dialect: Dialect, bound: dict[str, Any]) -> tuple[str, Any]:
        sql, order, _processors, _literals = self._compiled(dialect)
        if order is not None:
            return sql, tuple(bound[name] for name in order)
        return sql, bound

    def _cursor(self, connection: Connection, bound: dict[str, Any]) -> Any:
        writes = connection.info.get(DEFERRED_WRITES)
        if writes is not None:
            writes.before(reads=self.reads)
        dialect = connection.dialect
        sql, params = self._params(dialect, bound)
        driver = connection.connection
        cursor = driver.cursor()
        statements.statement()
        try:
            if statements.tracer is None:
                cursor.execute(sql, params)
            else:
                with statements.tracer(sql, dialect.name):
                    cursor.execute(sql, params)
        except dialect.loaded_dbapi.Error as error:
            # As a SQLAlchemy execution would: its exception classes, and a connection that was
            # lost is invalidated, so that the next transaction opens a new one.
            cursor.close()
            if dialect.is_disconnect(error, driver.dbapi_connection, cursor):
                connection.invalidate(error)
            raise DBAPIError.instance(
                sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        return cursor

    def execute(self, connection: Connection, values: dict[str, Any]) -> int:
        """Run the statement with `values`; how many rows it changed."""
        return self.execute_bound(connection, self.bound(connection.dialect, values))

    def execute_bound(self, connection: Connection, bound: dict[str, Any]) -> int:
        """`execute`, with values `bound` already (store/deferred.py)."""
        cursor = self._cursor(connection, bound)
        count = cursor.rowcount
        cursor.close()
        return count

    def rows(self, connection: Connection, values: dict[str, Any]) -> list[dict[str, Any]]:
        """The rows a SELECT returns, as dicts of converted values."""
        cursor = self._cursor(connection, self.bound(connection.dialect, values))
        names = [entry[0] for entry in cursor.description]
        converters = self._result_processors(connection.dialect, names)
        found = [
            {
                name: value if convert is None or value is None else convert(value)
                for name, convert, value in zip(names, converters, row, strict=True)
            }
            for row in cursor.fetchall()
        ]
        cursor.close()
        return found

    def _result_processors(self, dialect: Dialect, names: list[str]) -> list[Processor]:
        key = (dialect.name, dialect.driver, tuple(names))
        found = self._results.get(key)
        if found is None:
            found = [
                None
                if name not in self.columns
                else self.columns[name].type.dialect_impl(dialect).result_processor(dialect, None)
                for name in names
            ]
            self._results[key] = found
        return found


def insert_into(table: Table) -> Prepared:
    """An insert of one row of `table`, its values bound by column name (all but `seq`)."""
    inserted = [column for column in table.columns if column.name != "seq"]
    return Prepared(table.insert().values({c.name: bindparam(c.name) for c in inserted}), inserted)
