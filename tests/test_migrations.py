"""The Alembic migrations build exactly the schema that amishare/store/schema.py declares.

A fresh SQLite and a fresh PostgreSQL database are migrated to the head revision; then
Alembic's autogenerate comparison must find nothing to do, and, because autogenerate
does not look at primary keys and compares some constraints loosely, the tables,
columns (type family, length, nullability), primary keys, indexes, unique constraints
and foreign keys are also compared one by one with what the database reports.
"""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, inspect

from amishare.store.db import make_engine, migrate
from amishare.store.schema import metadata
from support import database_url

VERSION_TABLE = "alembic_version"


@pytest.fixture
def migrated(backend, tmp_path):
    """A connection to a fresh database brought to the head revision by the migrations."""
    url, cleanup = database_url(backend, tmp_path)
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
        cleanup()


def test_autogenerate_finds_no_difference(migrated):
    context = MigrationContext.configure(migrated, opts={"compare_type": True})
    differences = compare_metadata(context, metadata)
    assert differences == [], "the migrations differ from schema.py:\n" + "\n".join(map(str, differences))


def _type_family(sql_type) -> tuple:
    """What a column's type must agree on across declaration and database: its family
    (string, text, integer, float, boolean) and, for strings, its length."""
    family = sql_type._type_affinity.__name__
    return family, getattr(sql_type, "length", None)


def _declared(table):
    columns = {c.name: (_type_family(c.type), c.nullable) for c in table.columns}
    primary_key = [c.name for c in table.primary_key.columns]
    indexes = {i.name: ([c.name for c in i.columns], bool(i.unique)) for i in table.indexes}
    uniques = {(u.name, tuple(c.name for c in u.columns))
               for u in table.constraints if isinstance(u, UniqueConstraint)}
    foreign_keys = {
        (tuple(fk.column_keys), fk.referred_table.name, tuple(e.column.name for e in fk.elements), fk.ondelete)
        for fk in table.constraints if isinstance(fk, ForeignKeyConstraint)
    }
    return columns, primary_key, indexes, uniques, foreign_keys


def _reflected(inspector, name, declared_uniques):
    columns = {c["name"]: (_type_family(c["type"]), c["nullable"]) for c in inspector.get_columns(name)}
    primary_key = inspector.get_pk_constraint(name)["constrained_columns"]
    # PostgreSQL backs each unique constraint with a unique index of the same name: that one is the
    # constraint, compared below, not an index of its own.
    indexes = {i["name"]: (i["column_names"], bool(i["unique"]))
               for i in inspector.get_indexes(name) if not i.get("duplicates_constraint")}
    # An unnamed unique constraint gets its name from the database: only the columns are declared.
    named = {u_name for u_name, _ in declared_uniques if u_name}
    uniques = {(u["name"] if u["name"] in named else None, tuple(u["column_names"]))
               for u in inspector.get_unique_constraints(name)}
    foreign_keys = {
        (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]),
         (fk.get("options") or {}).get("ondelete"))
        for fk in inspector.get_foreign_keys(name)
    }
    return columns, primary_key, indexes, uniques, foreign_keys


def test_tables_columns_keys_and_indexes_match_the_declared_schema(migrated):
    inspector = inspect(migrated)
    assert set(inspector.get_table_names()) - {VERSION_TABLE} == set(metadata.tables)
    for name, table in metadata.tables.items():
        declared = _declared(table)
        reflected = _reflected(inspector, name, declared[3])
        for part, want, got in zip(("columns", "primary key", "indexes", "unique constraints", "foreign keys"),
                                   declared, reflected):
            assert got == want, f"{name}: the migrations give {part} {got}, schema.py declares {want}"
