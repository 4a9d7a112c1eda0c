from alembic import context

from amishare.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("amishare migrations run through amishare.store.db.migrate")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
