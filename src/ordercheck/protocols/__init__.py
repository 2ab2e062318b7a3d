"""The configurable commit-protocol family and the named presets of real products."""

from .family import FaultSettings, PropertySpec, Protocol, design_model
from .rules import Clause, RuleError, parse_rule

__all__ = ["Clause", "FaultSettings", "PropertySpec", "Protocol", "RuleError", "design_model", "parse_rule"]
