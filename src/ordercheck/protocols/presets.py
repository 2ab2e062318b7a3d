"""Named presets: real products' settings, in the products' own words, mapped onto the family's knobs.

Each preset reads the settings a product's documentation names and derives
the acknowledgement rule, replication modes and promotion rule from the
documented mechanics (see ``../shared/DOMAIN.md`` and each function's
docstring).  A preset never encodes an expected answer.

Every setting a preset reads is declared once, in :data:`SETTINGS` (name,
accepted values, default, what it changes in the model); the presets validate
against it and :func:`settings_table` renders it for ``docs/designs.md``, so
the documentation is the code's.  :func:`knobs_table` renders what each preset
sets with its defaults.

Examples
--------
>>> protocol, replication = apply_preset("postgresql", {"synchronous_commit": "on",
...     "synchronous_standby_names": "FIRST 1 (db2)"}, ["db1", "db2", "db3"], "db1")
>>> protocol.ack, replication
('primary.disk and 1 of sync.disk', {'db2': 'sync', 'db3': 'async'})
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ..lang.errors import ModelError
from .family import Protocol

__all__ = ["PRESETS", "SETTINGS", "Setting", "apply_preset", "knobs_table", "settings_table"]

STORES = {"app": "memory", "primary": "disk", "replica": "disk", "interface": "memory"}


@dataclass(frozen=True)
class Setting:
    """One product setting a preset reads: its name, its default, its effect, and what it accepts.

    ``values`` lists the accepted values, or is empty when ``described`` says what is accepted
    (a number in a range, a list of standbys).  :func:`settings_table` renders these for
    ``docs/designs.md``, and the presets validate against them, so the table is the code's.
    """

    name: str
    default: Any
    changes: str
    values: tuple[Any, ...] = ()
    described: str = ""


def _choice(settings: dict[str, Any], key: str, choices: tuple[Any, ...], default: Any) -> Any:
    value = settings.get(key, default)
    if isinstance(value, str):
        value = value.strip()
    if not any(type(value) is type(c) and value == c for c in choices):
        raise ModelError(f"{key} = {value!r} is not one of {', '.join(repr(c) for c in choices)}")
    return value


def _read(settings: dict[str, Any], preset: str) -> dict[str, Any]:
    """Every setting of ``preset``, given or defaulted; unknown names and values outside a list are refused."""
    allowed = tuple(x.name for x in SETTINGS[preset])
    unknown = [k for k in settings if k not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ModelError(f"preset {preset!r} has no setting {unknown[0]!r}{hint} (its settings: {', '.join(allowed) or 'none'})")
    out = {}
    for setting in SETTINGS[preset]:
        if setting.values:
            out[setting.name] = _choice(settings, setting.name, setting.values, setting.default)
        else:
            out[setting.name] = settings.get(setting.name, setting.default)
    return out


def _count(values: dict[str, Any], key: str, low: int, high: int) -> int:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelError(f"{key} = {value!r} must be a whole number from {low} to {high}")
    return value


def _member(values: dict[str, Any], key: str, candidates: list[str]) -> str:
    value = values[key]
    if value not in candidates:
        raise ModelError(f"{key} = {value!r} is not a replica of this topology ({', '.join(candidates)})")
    return str(value)


# ----------------------------------------------------------------------------- PostgreSQL

def postgresql(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """PostgreSQL streaming replication.

    ``synchronous_commit``: ``off`` acknowledges before the WAL is flushed
    (it is still in WAL buffers: memory); ``local`` after the local flush;
    ``remote_write`` also waits until the synchronous standbys have written
    the WAL (OS cache, not flushed); ``on`` until they have flushed it;
    ``remote_apply`` until they have applied it (flushed first).  With
    ``synchronous_standby_names`` empty replication is asynchronous and the
    remote levels act as ``local``.  ``FIRST n (a, b)`` and ``ANY n (a, b)``
    make the listed standbys synchronous and wait for ``n`` of them.
    ``failover``: ``any-standby`` promotes any standby; ``confirmed-standby``
    the listed standby that received the most WAL (with ``ANY 1 (a, b)`` only
    one of them confirmed a commit, and it is the most up to date).  The WAL
    is streamed in order, so a standby holds a prefix of the primary's.
    """
    values = _read(settings, "postgresql")
    level = values["synchronous_commit"]
    names = str(values["synchronous_standby_names"]).strip()
    failover = values["failover"]
    standbys = [n for n in data if n != primary]
    count, listed = 0, []
    if names:
        match = re.fullmatch(r"(?:(FIRST|ANY)\s+(\d+)\s*\(([^)]*)\)|([^()]+))", names, flags=re.IGNORECASE)
        if not match:
            raise ModelError(f"synchronous_standby_names = {names!r}: write FIRST n (a, b), ANY n (a, b) or a list of standbys")
        items = match.group(3) if match.group(3) is not None else match.group(4)
        listed = [x.strip().strip('"') for x in items.split(",") if x.strip()]
        count = int(match.group(2)) if match.group(2) else 1
        for name in listed:
            if name not in standbys:
                raise ModelError(f"synchronous_standby_names names {name!r}, which is not a standby of this topology ({', '.join(standbys)})")
        if count < 1 or count > len(listed):
            raise ModelError(f"synchronous_standby_names = {names!r}: cannot wait for {count} of {len(listed)} standbys")
    replication = {n: ("sync" if n in listed else "async") for n in standbys}
    local = {"off": "primary.memory"}.get(level, "primary.disk")
    if not listed or level in ("off", "local"):
        ack = local
    elif level == "remote_write":
        ack = f"{local} and {count} of sync.os-cache"
    else:
        ack = f"{local} and {count} of sync.disk"
    promote = "sync" if failover == "confirmed-standby" and listed else "any"
    # A server that lost its data directory is re-created from a base backup as a standby.
    return Protocol(stores=dict(STORES), fsync="periodic", ack=ack, promote=promote, rejoin_authoritative=False), replication


# ----------------------------------------------------------------------------- Kafka

def kafka(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """Apache Kafka, one partition: the primary is the leader, the replicas its followers.

    ``acks``: ``0`` does not wait (the leader merely received it), ``1``
    waits for the leader's log (page cache), ``all`` for every member of the
    in-sync replica set, which shrinks when a follower lags (modelled as the
    synchronous set degrading after a timeout; a follower that goes down
    leaves it, and rejoins once caught up).  ``min.insync.replicas`` refuses
    writes while the in-sync set (the leader counted once) is smaller.
    Messages stay in the page cache: no fsync by default (``flush.messages``
    unset); ``flush = true`` fsyncs before acknowledging.
    ``unclean.leader.election.enable`` lets an out-of-sync replica become
    leader; otherwise only in-sync replicas may.
    """
    values = _read(settings, "kafka")
    acks = str(values["acks"])
    acks = "all" if acks == "-1" else acks
    factor = values["replication.factor"]
    if factor is not None and factor != len(data):
        raise ModelError(f"replication.factor = {factor!r} but the topology has {len(data)} data nodes (a leader and {len(data) - 1} followers)")
    min_isr = _count(values, "min.insync.replicas", 1, len(data))
    unclean, flush = values["unclean.leader.election.enable"], values["flush"]
    medium = "disk" if flush else "os-cache"
    followers = [n for n in data if n != primary]
    replication = {n: "sync" for n in followers}
    if acks == "0":
        ack = "primary.memory"
    elif acks == "1" or not followers:
        ack = f"primary.{medium}"
    else:
        ack = f"primary.{medium} and all of isr.{medium}"
    # The controller moves leadership away from a broker that dies; a broker back from a disk loss
    # rejoins as an empty follower.
    protocol = Protocol(stores=dict(STORES), fsync="before-ack" if flush else "never", ack=ack,
                        promote="any" if unclean else "sync", degrade_sync_after_timeout=True,
                        min_sync_replicas=(min_isr - 1) if acks == "all" else 0,
                        rejoin_authoritative=False, restarted_primary_needs_election=True)
    return protocol, replication


# ----------------------------------------------------------------------------- Raft, chain

def raft(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """Raft as in etcd: an entry of the leader's own log is committed once a majority has it on disk
    (each node fsyncs before replying); a candidate wins with votes from a majority whose logs (what
    each holds across a process crash) are no more up to date than its own; a restarted leader is a
    follower until elected again; a member whose data directory is lost is removed and re-added."""
    _read(settings, "raft")
    replication = {n: "quorum" for n in data if n != primary}
    return Protocol(stores=dict(STORES), fsync="periodic", ack="primary.disk and majority.disk", promote="majority",
                    rejoin_authoritative=False, restarted_primary_needs_election=True), replication


def chain(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """Chain replication (van Renesse and Schneider, 2004): writes enter at the head (the primary), pass every
    server in order, and the tail acknowledges once it has the write on disk; a failed head is replaced by its
    successor, a failed server is skipped, and a server back from a disk loss copies the tail's state."""
    _read(settings, "chain")
    replication = {n: "chain" for n in data if n != primary}
    return Protocol(stores=dict(STORES), fsync="periodic", ack="tail.disk", promote="successor", rejoin_authoritative=False), replication


# ----------------------------------------------------------------------------- InterSystems IRIS / Caché

def iris(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """InterSystems IRIS (Caché) database mirroring: two failover members and DR async members.

    The primary is one failover member; ``Backup`` names the other (default: the first replica
    in the file); every other data node is a disaster-recovery (DR) async member.  Journal
    records are streamed in order; the primary waits for the *active* backup's acknowledgement
    of receipt at journal syncs, and a backup that misses the QoS timeout, or goes down, is no
    longer active (the primary carries on alone) until it has caught up.

    ``SynchCommit``: ``0`` (the default) a TCOMMIT does not wait for its journal write (the
    journal buffer is in memory) nor for the backup; ``1`` it waits until the journal data is
    on disk, which in a mirror includes the active backup's acknowledgement of receipt.
    ``DRPromotion``: ``false`` only the active backup takes over (the arbiter and the agent
    allow automatic failover to an active backup only); ``true`` an operator may also promote a
    DR async member, which "may lose data".  Application servers (ECP, role ``app``) hold an
    order in memory until the data server has it.
    """
    values = _read(settings, "iris")
    replicas = [n for n in data if n != primary]
    synch = values["SynchCommit"]
    backup = _member(values, "Backup", replicas) if values["Backup"] is not None else (replicas[0] if replicas else None)
    replication = {n: ("sync" if n == backup else "async") for n in replicas}
    if synch == 1 and backup is not None:
        ack = "primary.disk and 1 of sync.memory"
    elif synch == 1:
        ack = "primary.disk"
    else:
        ack = "primary.memory"
    promote = "any" if values["DRPromotion"] or backup is None else "sync"
    # A primary that restarts before a failover recovers from its journal and carries on; a member that
    # lost its disk is rebuilt from a backup of the primary.
    return Protocol(stores=dict(STORES), fsync="periodic", ack=ack, promote=promote, degrade_sync_after_timeout=True,
                    rejoin_authoritative=False), replication


# ----------------------------------------------------------------------------- MySQL

def mysql(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """MySQL source/replica replication of the binary log, optionally semisynchronous.

    The source's commit is durable locally when ``sync_binlog = 1`` and
    ``innodb_flush_log_at_trx_commit = 1`` (disk); ``innodb_flush_log_at_trx_commit = 2`` or
    ``sync_binlog = 0`` leave it in the OS cache, ``innodb_flush_log_at_trx_commit = 0`` in the
    log buffer (memory).  With ``rpl_semi_sync_source_enabled`` the committing client waits until
    ``rpl_semi_sync_source_wait_for_replica_count`` replicas acknowledge the events, which a
    replica does once they are written to its relay log and flushed to disk.  After
    ``rpl_semi_sync_source_timeout`` without enough acknowledgements the source falls back to
    asynchronous replication (modelled as the semisynchronous set degrading).
    ``rpl_semi_sync_source_wait_point`` AFTER_SYNC and AFTER_COMMIT wait for the same
    acknowledgement before the client is answered; they differ in what *other* sessions see
    before it (AFTER_COMMIT shows the commit first), which ordercheck does not model.
    ``failover``: ``any-replica`` promotes any replica, ``most-up-to-date`` the one with the
    most of the binary log (what orchestrators such as Orchestrator or MHA choose).
    """
    values = _read(settings, "mysql")
    replicas = [n for n in data if n != primary]
    if values["innodb_flush_log_at_trx_commit"] == 0:
        local = "primary.memory"
    elif values["innodb_flush_log_at_trx_commit"] == 2 or values["sync_binlog"] == 0:
        local = "primary.os-cache"
    else:
        local = "primary.disk"
    semisync = values["rpl_semi_sync_source_enabled"]
    count = _count(values, "rpl_semi_sync_source_wait_for_replica_count", 1, max(1, len(replicas)))
    timeout = values["rpl_semi_sync_source_timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        raise ModelError(f"rpl_semi_sync_source_timeout = {timeout!r} must be a number of milliseconds")
    replication = {n: ("sync" if semisync else "async") for n in replicas}
    ack = f"{local} and {count} of sync.disk" if semisync and replicas else local
    promote = "most-up-to-date" if values["failover"] == "most-up-to-date" else "any"
    return Protocol(stores=dict(STORES), fsync="periodic", ack=ack, promote=promote, degrade_sync_after_timeout=bool(semisync and replicas),
                    rejoin_authoritative=False), replication


# ----------------------------------------------------------------------------- MongoDB

def mongodb(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """MongoDB replica set: an election by majority with oplog comparison, write concern ``w`` and ``j``.

    ``w = 1`` acknowledges once the primary applied the write; ``w = "majority"`` once a
    majority of the voting members have.  ``j = true`` asks for the on-disk journal on each of
    those; with ``w = "majority"`` and ``j`` unset, ``writeConcernMajorityJournalDefault``
    (true by default) decides.  Without ``j`` a write is acknowledged from memory (the journal is
    flushed every 100 ms).  An election picks a member with a majority of votes from members
    whose oplog is no newer; a former primary that comes back rejoins as a secondary (writes
    only it had are rolled back).
    """
    values = _read(settings, "mongodb")
    w, j = values["w"], values["j"]
    if j is None:
        j = values["writeConcernMajorityJournalDefault"] if w == "majority" else False
    medium = "disk" if j else "memory"
    ack = f"primary.{medium} and majority.{medium}" if w == "majority" else f"primary.{medium}"
    replication = {n: "quorum" for n in data if n != primary}
    return Protocol(stores=dict(STORES), fsync="periodic", ack=ack, promote="majority",
                    rejoin_authoritative=False, restarted_primary_needs_election=True), replication


# ----------------------------------------------------------------------------- Redis

def redis(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """Redis with asynchronous replication and Sentinel failover.

    A write is acknowledged once the master applied it in memory; ``WAIT numreplicas`` makes the
    client wait until that many replicas acknowledged receiving it (in memory).  With
    ``appendonly = "yes"`` every node also appends to its AOF: ``appendfsync = "always"`` fsyncs
    before replying (disk), ``everysec`` writes at once and fsyncs once a second (OS cache),
    ``no`` leaves flushing to the OS (OS cache).  Sentinel promotes the replica with the largest
    replication offset (the most up to date) once the master is down; a master that restarts
    before that carries on.
    """
    values = _read(settings, "redis")
    replicas = [n for n in data if n != primary]
    wait = _count(values, "WAIT", 0, len(replicas))
    appendonly = values["appendonly"] == "yes"
    if not appendonly:
        medium, stores, fsync = "memory", {**STORES, "primary": "memory", "replica": "memory"}, "never"
    elif values["appendfsync"] == "always":
        medium, stores, fsync = "disk", dict(STORES), "before-ack"
    else:
        medium, stores, fsync = "os-cache", {**STORES, "primary": "os-cache", "replica": "os-cache"}, "never"
    ack = f"primary.{medium}"
    if wait:
        ack += f" and {wait} of replica.memory"
    replication = {n: "async" for n in replicas}
    return Protocol(stores=stores, fsync=fsync, ack=ack, promote="most-up-to-date", rejoin_authoritative=False), replication


SETTINGS: dict[str, tuple[Setting, ...]] = {
    "postgresql": (
        Setting("synchronous_commit", "on", "the ack rule: `off` primary.memory (WAL buffers), `local` primary.disk, `remote_write` "
                "primary.disk and n of sync.os-cache, `on` and `remote_apply` primary.disk and n of sync.disk; "
                "with no standby listed every level but `off` acts as `local`",
                ("off", "local", "remote_write", "on", "remote_apply")),
        Setting("synchronous_standby_names", "", "the listed standbys are `sync`, the others `async`; n is how many must confirm",
                described="`\"\"`, `\"FIRST n (a, b)\"`, `\"ANY n (a, b)\"` or `\"a, b\"` (= `FIRST 1`)"),
        Setting("failover", "any-standby", "`promote`: `any`, or `sync` (the listed standby that received the most WAL)",
                ("any-standby", "confirmed-standby")),
    ),
    "kafka": (
        Setting("acks", "all", "the ack rule: `0` primary.memory, `1` primary.os-cache, `all` primary.os-cache and all of isr.os-cache "
                "(disk with `flush`)", ("0", "1", "all", "-1", 0, 1, -1)),
        Setting("replication.factor", None, "checked against the topology: the leader and its followers", described="the number of data nodes"),
        Setting("min.insync.replicas", 1, "with `acks = all`, `min_sync_replicas` = this - 1: refuse writes while the ISR, the leader counted "
                "once, is smaller", described="1 to the number of data nodes"),
        Setting("unclean.leader.election.enable", False, "`promote`: `any` if true, else `sync` (a member of the ISR)", (False, True)),
        Setting("flush", False, "fsync before acknowledging (`fsync = \"before-ack\"`, the ack rule on disk); false: the page cache only "
                "(`fsync = \"never\"`)", (False, True)),
    ),
    "raft": (),
    "chain": (),
    "iris": (
        Setting("SynchCommit", 0, "the ack rule: `0` primary.memory (TCOMMIT does not wait for the journal write), `1` primary.disk and "
                "1 of sync.memory (the journal on disk and the active backup's receipt)", (0, 1)),
        Setting("Backup", None, "which replica is the backup failover member (`sync`); the others are DR async members (`async`)",
                described="a replica's name (default: the first replica)"),
        Setting("DRPromotion", False, "`promote`: `sync` (only the active backup takes over), or `any` (a DR async member may be promoted)",
                (False, True)),
    ),
    "mysql": (
        Setting("rpl_semi_sync_source_enabled", False, "replicas `sync` and the ack waits for them (semisynchronous), or `async`", (False, True)),
        Setting("rpl_semi_sync_source_wait_point", "AFTER_SYNC", "nothing for acknowledged orders: both wait for the replicas before the "
                "client is answered (AFTER_COMMIT shows the commit to other sessions first)", ("AFTER_SYNC", "AFTER_COMMIT")),
        Setting("rpl_semi_sync_source_wait_for_replica_count", 1, "n in the ack rule's `n of sync.disk` (a replica acknowledges once the events "
                "are in its relay log on disk)", described="1 to the number of replicas"),
        Setting("rpl_semi_sync_source_timeout", 10000, "`degrade_sync_after_timeout = true`: a replica may miss any timeout, and the source "
                "then falls back to asynchronous replication", described="milliseconds"),
        Setting("sync_binlog", 1, "`0`: the source's commit is in the OS cache (`primary.os-cache`)", (0, 1)),
        Setting("innodb_flush_log_at_trx_commit", 1, "`0`: the commit is in the log buffer (`primary.memory`); `2`: in the OS cache; `1` "
                "(with `sync_binlog = 1`): on disk", (0, 1, 2)),
        Setting("failover", "any-replica", "`promote`: `any`, or `most-up-to-date` (the replica with the most binary log)",
                ("any-replica", "most-up-to-date")),
    ),
    "mongodb": (
        Setting("w", "majority", "the ack rule: `1` primary only, `majority` primary and a majority of the members", (1, "majority")),
        Setting("j", None, "the medium of the ack rule: true disk (the on-disk journal), false memory; unset: "
                "`writeConcernMajorityJournalDefault` for `w = \"majority\"`, false for `w = 1`", (None, False, True)),
        Setting("writeConcernMajorityJournalDefault", True, "what an unset `j` means with `w = \"majority\"`", (False, True)),
    ),
    "redis": (
        Setting("WAIT", 0, "the ack rule adds `n of replica.memory` (WAIT numreplicas)", described="0 to the number of replicas"),
        Setting("appendonly", "no", "`no`: every copy is in memory only; `yes`: the AOF, as `appendfsync` says", ("no", "yes")),
        Setting("appendfsync", "everysec", "with `appendonly = \"yes\"`: `always` disk before replying, `everysec` and `no` the OS cache",
                ("always", "everysec", "no")),
    ),
}

PRESETS: dict[str, Callable[[dict[str, Any], list[str], str], tuple[Protocol, dict[str, str]]]] = {
    "postgresql": postgresql, "kafka": kafka, "raft": raft, "chain": chain,
    "iris": iris, "mysql": mysql, "mongodb": mongodb, "redis": redis,
}


def apply_preset(name: str, settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """The protocol and per-replica replication modes of preset ``name`` with the product settings ``settings``."""
    if name not in PRESETS:
        raise ModelError(f"unknown preset {name!r} (presets: {', '.join(PRESETS)})")
    return PRESETS[name](settings, data, primary)


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`\"{value}\"`"
    return f"`{value}`"


def settings_table() -> str:
    """Every preset setting as a Markdown table: preset, setting, values, default, what it changes in the model.

    >>> settings_table().splitlines()[0]
    '| preset | setting | values | default | what it changes in the model |'
    """
    rows = ["| preset | setting | values | default | what it changes in the model |", "|---|---|---|---|---|"]
    for preset, settings in SETTINGS.items():
        if not settings:
            rows.append(f"| `{preset}` | (none) | | | the knobs below, fixed |")
        for x in settings:
            # A number that is also listed as a string (Kafka's acks = 1 or "1") is shown once.
            shown = x.described or " / ".join(_show(v) for v in x.values if not (type(v) is int and str(v) in x.values))
            rows.append(f"| `{preset}` | `{x.name}` | {shown} | {_show(x.default)} | {x.changes} |")
    return "\n".join(rows)


def knobs_table(data: tuple[str, ...] = ("n1", "n2", "n3")) -> str:
    """What each preset sets with its default settings, for a primary ``n1`` and replicas ``n2``, ``n3``."""
    default = Protocol()
    rows = ["| preset | ack | fsync | promote | replicas | other knobs |", "|---|---|---|---|---|---|"]
    for preset in PRESETS:
        protocol, replication = apply_preset(preset, {}, list(data), data[0])
        others = [f"`{f.name} = {_knob(getattr(protocol, f.name))}`" for f in fields(Protocol)
                  if f.name not in ("ack", "fsync", "promote") and getattr(protocol, f.name) != getattr(default, f.name)]
        modes = ", ".join(f"{n}: {m}" for n, m in replication.items())
        rows.append(f"| `{preset}` | `{protocol.ack}` | `{protocol.fsync}` | `{protocol.promote}` | {modes} | {'; '.join(others) or 'none'} |")
    return "\n".join(rows)


def _knob(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = \"{v}\"" for k, v in value.items()) + " }"
    return repr(value) if isinstance(value, str) else str(value)
