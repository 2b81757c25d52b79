"""Upgrade a database by hand, without starting the server: `python -m reviewer.store.migrations URL`
(the same SQLAlchemy URL as REVIEWER_DATABASE_URL). Every process that opens the store does this anyway."""

import sys

from reviewer.store.db import make_engine
from reviewer.store.migrations import current_revision, upgrade


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m reviewer.store.migrations DATABASE_URL", file=sys.stderr)
        return 2
    engine = make_engine(argv[0])
    try:
        upgrade(engine)
        print(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
