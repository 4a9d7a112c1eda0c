"""The hottest reads, compiled once and run on the driver's connection.

SQLAlchemy's `Connection.execute` costs far more than the query on the hottest path
(an indexed lookup of a few rows): the statement's cache key, the execution context
and the result object are built anew for every call. A `Query` is a SQLAlchemy Core
select like any other, written where its table's module keeps its SQL; it is compiled
once per dialect (and per length of each expanding IN list) and then runs as the
compiled SQL text on the DBAPI connection beneath the call's `Connection`, inside the
same transaction, with the bind and result conversions SQLAlchemy itself would apply
(SQLite's 0/1 to booleans, ...). Rows come back as plain dicts keyed like
`.mappings()`; driver errors are raised as SQLAlchemy's (`OperationalError`, ...), so
callers handle timeouts and lock conflicts as for any other statement.
"""

import threading

from sqlalchemy.exc import DBAPIError


class _Plan:
    """One compiled form: the SQL text and how to lay the parameters out for the driver."""

    __slots__ = ("sql", "positional", "slots", "keys", "processors")

    def __init__(self, statement, dialect, sizes: dict[str, int]):
        compiled = statement.compile(dialect=dialect)
        dummy = {name: [None] * sizes[name] if bind.expanding else None for name, bind in compiled.binds.items()
                 if bind.expanding or bind.required}
        expanded = compiled.construct_expanded_state(dummy, escape_names=False)
        self.sql = expanded.statement
        self.positional = compiled.positional
        names = expanded.positiontup if self.positional else list(expanded.parameters)
        where = {}
        for base, parts in (expanded.parameter_expansion or {}).items():
            for index, part in enumerate(parts):
                where[part] = (base, index)
        constants = {name: bind.value for name, bind in compiled.binds.items()
                     if not bind.expanding and not bind.required}
        converters = expanded.processors or {}
        # (name, parameter it comes from or None for a constant, index in an expanding list or None, constant, processor)
        self.slots = []
        for name in names:
            base, index = where.get(name, (name, None))
            given = base if (index is not None or base in dummy) else None
            self.slots.append((name, given, index, constants.get(name), converters.get(name)))
        columns = list(statement.selected_columns)
        self.keys = tuple(statement.selected_columns.keys())
        self.processors = tuple((i, p) for i, p in ((i, col.type.result_processor(dialect, None))
                                                     for i, col in enumerate(columns)) if p is not None)

    def parameters(self, params: dict):
        values = []
        for _name, given, index, constant, convert in self.slots:
            value = constant if given is None else (params[given] if index is None else params[given][index])
            values.append(convert(value) if convert is not None and value is not None else value)
        if self.positional:
            return tuple(values)
        return {slot[0]: value for slot, value in zip(self.slots, values)}


def _padded(values: list) -> list:
    """An IN list at the next power of two, the last value repeated (which changes no answer):
    a Query compiles a handful of list lengths, never one per length a caller chose."""
    size = len(values)
    if size <= 2:
        return values
    return values + [values[-1]] * ((1 << (size - 1).bit_length()) - size)


class Query:
    """A select compiled once per dialect and list length; `rows`, `first` and `scalar` run it."""

    def __init__(self, statement):
        self.statement = statement
        self._plans: dict[tuple, _Plan] = {}
        self._lock = threading.Lock()
        self._expanding = tuple(name for name, bind in statement.compile().binds.items() if bind.expanding)

    def _plan(self, dialect, params: dict) -> _Plan:
        for name in self._expanding:
            params[name] = _padded(list(params[name]))
        sizes = {name: len(params[name]) for name in self._expanding}
        key = (dialect.name, *sizes.values())
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key) or _Plan(self.statement, dialect, sizes)
                self._plans[key] = plan
        return plan

    def _fetch(self, conn, params: dict, many: bool):
        dialect = conn.dialect
        plan = self._plan(dialect, params)
        values = plan.parameters(params)
        try:
            cursor = conn.connection.driver_connection.cursor()
            try:
                cursor.execute(plan.sql, values)
                found = cursor.fetchall() if many else cursor.fetchone()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(plan.sql, values, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
        return plan, found

    @staticmethod
    def _row(plan: _Plan, raw) -> dict:
        row = dict(zip(plan.keys, raw))
        for index, process in plan.processors:
            key = plan.keys[index]
            row[key] = process(row[key])
        return row

    def rows(self, conn, **params) -> list[dict]:
        plan, found = self._fetch(conn, params, True)
        return [self._row(plan, raw) for raw in found]

    def first(self, conn, **params) -> dict | None:
        plan, raw = self._fetch(conn, params, False)
        return None if raw is None else self._row(plan, raw)

    def scalar(self, conn, **params):
        row = self.first(conn, **params)
        return None if row is None else next(iter(row.values()))


class Insert:
    """An INSERT of one table's rows, compiled once per dialect and run as one `executemany`
    on the driver's connection (the audit trail writes hundreds of rows per statement: what
    SQLAlchemy builds for each row costs more than SQLite's own work). Rows are dicts holding
    every column of `columns`; the bind conversions SQLAlchemy would apply are applied."""

    def __init__(self, table, columns: list[str]):
        self.table = table
        self.columns = list(columns)
        self._plans: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def _plan(self, dialect) -> tuple:
        plan = self._plans.get(dialect.name)
        if plan is None:
            with self._lock:
                compiled = self.table.insert().compile(dialect=dialect, column_keys=self.columns)
                names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
                processors = compiled._bind_processors
                converters = tuple((names.index(name), processors[name]) for name in names if name in processors)
                plan = self._plans[dialect.name] = (compiled.string, compiled.positional, tuple(names), converters)
        return plan

    def many(self, conn, rows: list[dict]) -> None:
        if not rows:
            return
        dialect = conn.dialect
        sql, positional, names, converters = self._plan(dialect)
        values = []
        for row in rows:
            value = [row[name] for name in names]
            for index, convert in converters:
                if value[index] is not None:
                    value[index] = convert(value[index])
            values.append(tuple(value) if positional else dict(zip(names, value)))
        try:
            cursor = conn.connection.driver_connection.cursor()
            try:
                cursor.executemany(sql, values)
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, values[:1], exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
