"""Opens the demo client's database: ZEO, or RelStorage on PostgreSQL.

For RelStorage the client is given the path of the buildout's deploy.cfg and reads its
[relstorage] section (drover renders it there, mode 0600): either `dsn`, or `dbname`, `host`,
`port`, `user` and `password`; `pack-gc` becomes a RelStorage option, and `cache-servers`
(drover renders `${memcached:servers}` there with relstorage.enable_cache and cache_servers)
makes RelStorage share its object cache in memcached, through python-memcached
(`cache-module-name`, default `memcache`). The password is read from that file only, never
from arguments or the environment, and never printed.
"""
import configparser
import re
import sys
import time

import ZODB


def zeo_db(address):
    import ZEO

    return ZEO.DB(address, wait_timeout=60)


def read_section(path):
    """The [relstorage] section of a buildout config, as a dict, with buildout's `${section:option}`
    references to other sections of the same file resolved."""
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str
    with open(path) as f:
        parser.read_file(f)
    if not parser.has_section("relstorage"):
        sys.exit(f"{path} has no [relstorage] section: set plone_instances.enable_relstorage")

    def resolve(match):
        section, option = match.group(1), match.group(2)
        if parser.has_option(section, option):
            return parser.get(section, option)
        sys.exit(f"{path}: [relstorage] refers to ${{{section}:{option}}}, which the file does not set")

    reference = re.compile(r"\$\{([^:}]+):([^}]+)\}")
    return {key: reference.sub(resolve, value) for key, value in parser.items("relstorage")}


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
    cache = f", memcached at {' '.join(s['cache-servers'].split())}" if s.get("cache-servers", "").strip() else ""
    if s.get("dsn", "").strip():
        return f"RelStorage (dsn from deploy.cfg){cache}"
    return f"RelStorage on PostgreSQL {s.get('host', '')}:{s.get('port', '5432')}/{s.get('dbname', '')}{cache}"


def relstorage_db(path, attempts=60, **more_options):
    """A DB on RelStorage (with `more_options` for RelStorage's Options). Clients that start
    together race to create the schema: retry."""
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
    servers = section.get("cache-servers", "").split()
    if servers:
        settings["cache_servers"] = servers
        settings["cache_module_name"] = section.get("cache-module-name", "").strip() or "memcache"
    settings.update(more_options)
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
