"""Opens the demo client's database: ZEO, or RelStorage on PostgreSQL.

For RelStorage the client is given the path of the buildout's deploy.cfg and reads its
[relstorage] section (drover renders it there, mode 0600): either `dsn`, or `dbname`, `host`,
`port`, `user` and `password`; `pack-gc` becomes a RelStorage option. The
password is read from that file only, never from arguments or the environment, and never printed.
"""
import configparser
import sys
import time

import ZODB


def zeo_db(address):
    import ZEO

    return ZEO.DB(address, wait_timeout=60)


def read_section(path):
    """The [relstorage] section of a buildout config, as a dict (buildout syntax: no interpolation)."""
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str
    with open(path) as f:
        parser.read_file(f)
    if not parser.has_section("relstorage"):
        sys.exit(f"{path} has no [relstorage] section: set plone_instances.enable_relstorage")
    return dict(parser.items("relstorage"))


def quote(value):
    """A libpq connection string value."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dsn(section):
    if section.get("dsn", "").strip():
        return section["dsn"].strip()
    keys = [("dbname", "dbname"), ("host", "host"), ("port", "port"), ("user", "user"), ("password", "password")]
    return " ".join(f"{key}={quote(section[option])}" for option, key in keys if section.get(option, "").strip())


def flag(section, option):
    value = section.get(option, "").strip().lower()
    if not value:
        return None
    return value in ("true", "on", "yes", "1")


def describe(path):
    """Where the storage is, without the password."""
    s = read_section(path)
    if s.get("dsn", "").strip():
        return "RelStorage (dsn from deploy.cfg)"
    return f"RelStorage on PostgreSQL {s.get('host', '')}:{s.get('port', '5432')}/{s.get('dbname', '')}"


def relstorage_db(path, attempts=60):
    """A DB on RelStorage. Clients that start together race to create the schema: retry."""
    from relstorage.adapters.postgresql import PostgreSQLAdapter
    from relstorage.options import Options
    from relstorage.storage import RelStorage

    section = read_section(path)
    db_type = section.get("db-type", "postgresql").strip().lower()
    if db_type not in ("postgres", "postgresql"):
        sys.exit(f"the demo speaks PostgreSQL only, not db-type {db_type!r}")
    settings = {}
    pack_gc = flag(section, "pack-gc")
    if pack_gc is not None:
        settings["pack_gc"] = pack_gc
    options = Options(**settings)
    for attempt in range(attempts):
        try:
            adapter = PostgreSQLAdapter(dsn=dsn(section), options=options)
            return ZODB.DB(RelStorage(adapter, options=options))
        except Exception as e:  # the database may be starting, or another client making the schema
            if attempt == attempts - 1:
                raise
            # The exception's text names the database, never the password (libpq leaves it out).
            print(f"opening RelStorage failed ({type(e).__name__}), retrying", flush=True)
            time.sleep(1)
