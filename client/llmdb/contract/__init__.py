"""The contract between llmdbd (which publishes) and llmdb (which reads): nothing else crosses between them.

One small module per contract, each re-exported here (`llmdb.contract.X` names what it always did):
`format` (the snapshot file: header, sections, lookup section, index, provenance table), `paths` (a state
directory: its files, retained snapshots, the environment variables), `state` (the typed status file), `columns`
(column values and bitset names per model), `times` (ISO 8601 times), `makers` (who makes a model id),
`history` (the history database's schema, `flatten` and `replay`). llmdbd imports this package and public `llmdb`
names only; applications use `llmdb`.

`format` and `paths` load with the package (a reader needs them for its first lookup); the others when one of
their names is first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmdb.contract.format import (
    DATE_COLUMNS,
    FLAGS_OFFSET,
    FORMAT_MAJOR,
    FORMAT_MINOR,
    HEADER,
    HEADER_SIZE,
    INDEX,
    LOOKUP,
    LOOKUP_HEAD,
    MAGIC,
    PROVENANCE,
    RECORDS,
    REPORT,
    REQUIRED_SECTIONS,
    SECTION,
    SECTION_NAMES,
    SUPERSEDED,
    Header,
    Index,
    ProfileIndex,
    ProvenanceTable,
    StoredSource,
    expand,
    header_crc,
    lookup_keys,
    lookup_layout,
    lookup_section,
    parse_header,
    read_header,
    spec_hash,
    spec_starts,
)
from llmdb.contract.paths import (
    CATALOG_FILE,
    LOCK_FILE,
    PROFILE_ENV,
    SNAPSHOT_ENV,
    SNAPSHOTS_DIR,
    STATE_DIR,
    STATE_DIR_ENV,
    STATUS_FILE,
    retained_epochs,
    retained_path,
)

if TYPE_CHECKING:
    from llmdb.contract.columns import COLUMNS, bitset_names, column_values
    from llmdb.contract.history import (
        EVENT_KINDS,
        HISTORY_FILE,
        HISTORY_SCHEMA,
        HISTORY_VERSION,
        event_value,
        field_changes,
        flatten,
        replay,
        unflatten,
    )
    from llmdb.contract.makers import FIRST_PARTY, MAKERS, REGIONS, fold, maker_in, maker_of
    from llmdb.contract.state import (
        Following,
        FollowStatus,
        HeldPrice,
        HistoryStatus,
        LeaderSeen,
        PublishStatus,
        RejectedFile,
        Status,
        UpstreamStatus,
        decode_status,
        fleet_lines,
        issue_lines,
        live,
        liveness,
        read_status,
        status_lines,
    )
    from llmdb.contract.times import iso, unix

__all__ = [
    "CATALOG_FILE",
    "COLUMNS",
    "DATE_COLUMNS",
    "EVENT_KINDS",
    "FIRST_PARTY",
    "FLAGS_OFFSET",
    "FORMAT_MAJOR",
    "FORMAT_MINOR",
    "HEADER",
    "HEADER_SIZE",
    "HISTORY_FILE",
    "HISTORY_SCHEMA",
    "HISTORY_VERSION",
    "INDEX",
    "LOCK_FILE",
    "LOOKUP",
    "LOOKUP_HEAD",
    "MAGIC",
    "MAKERS",
    "PROFILE_ENV",
    "PROVENANCE",
    "RECORDS",
    "REGIONS",
    "REPORT",
    "REQUIRED_SECTIONS",
    "SECTION",
    "SECTION_NAMES",
    "SNAPSHOTS_DIR",
    "SNAPSHOT_ENV",
    "STATE_DIR",
    "STATE_DIR_ENV",
    "STATUS_FILE",
    "SUPERSEDED",
    "FollowStatus",
    "Following",
    "Header",
    "HeldPrice",
    "HistoryStatus",
    "Index",
    "LeaderSeen",
    "ProfileIndex",
    "ProvenanceTable",
    "PublishStatus",
    "RejectedFile",
    "Status",
    "StoredSource",
    "UpstreamStatus",
    "bitset_names",
    "column_values",
    "decode_status",
    "event_value",
    "expand",
    "field_changes",
    "flatten",
    "fleet_lines",
    "fold",
    "header_crc",
    "iso",
    "issue_lines",
    "live",
    "liveness",
    "lookup_keys",
    "lookup_layout",
    "lookup_section",
    "maker_in",
    "maker_of",
    "parse_header",
    "read_header",
    "read_status",
    "replay",
    "retained_epochs",
    "retained_path",
    "spec_hash",
    "spec_starts",
    "status_lines",
    "unflatten",
    "unix",
]

_LATER = ("state", "history", "columns", "times", "makers")
"""The contract's modules loaded when one of their names is first asked for (searched in this order)."""

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name in __all__:
            for module in _LATER:
                found = getattr(__import__(f"llmdb.contract.{module}", fromlist=["_"]), name, __getattr__)
                if found is not __getattr__:
                    globals()[name] = found
                    return found
        raise AttributeError(f"module 'llmdb.contract' has no attribute {name!r}")
