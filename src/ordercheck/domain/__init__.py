"""Durability as a first-class domain: topologies, media, faults and durability properties."""

from .faults import FAULT_KINDS, Faults
from .properties import (
    failures_to_lose,
    holders_of,
    never_lost,
    no_duplicates,
    registered_or_rejected,
    single_primary,
    survives,
    visible_after_failover,
)
from .topology import NodeDomain, Topology

__all__ = [
    "FAULT_KINDS",
    "Faults",
    "NodeDomain",
    "Topology",
    "failures_to_lose",
    "holders_of",
    "never_lost",
    "no_duplicates",
    "registered_or_rejected",
    "single_primary",
    "survives",
    "visible_after_failover",
]
