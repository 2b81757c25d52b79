"""Alembic's entry point: migrations run on the connection `reviewer.store.migrations.upgrade` hands over
(inside its lock and transaction); run through the `alembic` command instead, on `sqlalchemy.url`."""

from alembic import context
from sqlalchemy import Connection

from reviewer.store.db import make_engine


def run(connection: Connection) -> None:
    context.configure(connection=connection, render_as_batch=True)  # batch: SQLite rebuilds tables to alter
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
