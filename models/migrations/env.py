"""Alembic environment: runs against the engine Gridline hands over (models.db.alembic_config)."""
from alembic import context

from models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: read the URL like every Gridline process does
    from sqlalchemy import create_engine

    from workers.settings import load_settings

    engine = create_engine(load_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
