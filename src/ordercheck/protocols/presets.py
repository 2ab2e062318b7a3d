"""Named presets: real products' settings, in the products' own words, mapped onto the family's knobs.

Each preset reads the settings a product's documentation names and derives
the acknowledgement rule, replication modes and promotion rule from the
documented mechanics (see ``../shared/DOMAIN.md`` and each function's
docstring).  A preset never encodes an expected answer.

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
from typing import Any

from ..lang.errors import ModelError
from .family import Protocol

__all__ = ["PRESETS", "apply_preset"]

STORES = {"app": "memory", "primary": "disk", "replica": "disk", "interface": "memory"}


def _choice(settings: dict[str, Any], key: str, choices: tuple[Any, ...], default: Any) -> Any:
    value = settings.get(key, default)
    if isinstance(value, str):
        value = value.strip()
    if value not in choices:
        raise ModelError(f"{key} = {value!r} is not one of {', '.join(repr(c) for c in choices)}")
    return value


def _check_keys(settings: dict[str, Any], allowed: tuple[str, ...], preset: str) -> None:
    unknown = [k for k in settings if k not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ModelError(f"preset {preset!r} has no setting {unknown[0]!r}{hint} (its settings: {', '.join(allowed)})")


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
    only a synchronous one (the only ones sure to hold an acknowledged commit).
    """
    _check_keys(settings, ("synchronous_commit", "synchronous_standby_names", "failover"), "postgresql")
    level = _choice(settings, "synchronous_commit", ("off", "local", "remote_write", "on", "remote_apply"), "on")
    names = str(settings.get("synchronous_standby_names", "")).strip()
    failover = _choice(settings, "failover", ("any-standby", "confirmed-standby"), "any-standby")
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


def kafka(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """Apache Kafka, one partition: the primary is the leader, the replicas its followers.

    ``acks``: ``0`` does not wait (the leader merely received it), ``1``
    waits for the leader's log (page cache), ``all`` for every member of the
    in-sync replica set, which shrinks when a follower lags (modelled as the
    synchronous set degrading after a timeout).  ``min.insync.replicas``
    refuses writes while the in-sync set (leader included) is smaller.
    Messages stay in the page cache: no fsync by default
    (``flush.messages`` unset); ``flush = true`` fsyncs before acknowledging.
    ``unclean.leader.election.enable`` lets an out-of-sync replica become
    leader; otherwise only in-sync replicas may.
    """
    _check_keys(settings, ("acks", "replication.factor", "min.insync.replicas", "unclean.leader.election.enable", "flush"), "kafka")
    acks = str(_choice(settings, "acks", ("0", "1", "all", 0, 1, "-1", -1), "all"))
    acks = "all" if acks in ("-1",) else acks
    factor = settings.get("replication.factor", len(data))
    if factor != len(data):
        raise ModelError(f"replication.factor = {factor!r} but the topology has {len(data)} data nodes (a leader and {len(data) - 1} followers)")
    min_isr = settings.get("min.insync.replicas", 1)
    if not isinstance(min_isr, int) or not 1 <= min_isr <= len(data):
        raise ModelError(f"min.insync.replicas = {min_isr!r} must be between 1 and {len(data)}")
    unclean = settings.get("unclean.leader.election.enable", False)
    if not isinstance(unclean, bool):
        raise ModelError(f"unclean.leader.election.enable = {unclean!r} must be true or false")
    flush = settings.get("flush", False)
    if not isinstance(flush, bool):
        raise ModelError(f"flush = {flush!r} must be true or false")
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


def raft(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """Raft as in etcd: an entry is committed once a majority has it on disk (each node fsyncs before
    replying); a candidate wins with votes from a majority whose logs are no more up to date than its own."""
    _check_keys(settings, (), "raft")
    replication = {n: "quorum" for n in data if n != primary}
    # The leader commits entries of its own log once a majority holds them; a restarted leader is a
    # follower until elected again; a member whose data directory is lost is removed and re-added.
    return Protocol(stores=dict(STORES), fsync="periodic", ack="primary.disk and majority.disk", promote="majority",
                    rejoin_authoritative=False, restarted_primary_needs_election=True), replication


def chain(settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """Chain replication (van Renesse and Schneider, 2004): writes enter at the head (the primary), pass every
    server in order, and the tail acknowledges once it has the write on disk."""
    _check_keys(settings, (), "chain")
    replication = {n: "chain" for n in data if n != primary}
    return Protocol(stores=dict(STORES), fsync="periodic", ack="tail.disk", promote="successor", rejoin_authoritative=False), replication


PRESETS = {"postgresql": postgresql, "kafka": kafka, "raft": raft, "chain": chain}


def apply_preset(name: str, settings: dict[str, Any], data: list[str], primary: str) -> tuple[Protocol, dict[str, str]]:
    """The protocol and per-replica replication modes of preset ``name`` with the product settings ``settings``."""
    if name not in PRESETS:
        raise ModelError(f"unknown preset {name!r} (presets: {', '.join(PRESETS)})")
    return PRESETS[name](settings, data, primary)
