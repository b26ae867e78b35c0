"""decide: per-zone alert states (clear -> pre_alert -> alert -> clear) from predicted threats.

:class:`Decider` is the stage; :class:`OperatorAction` and :class:`AuditLog` are the
operator-control surface used by the live service; the policy keys are documented in
``airwarn/decide/policy.toml``.
"""

from airwarn.decide.config import DecideConfig
from airwarn.decide.decider import ALERT, CLEAR, PRE, STATE_NAMES, Decider
from airwarn.decide.operator import OPERATOR_ACTIONS, AuditLog, MemoryAuditLog, OperatorAction

__all__ = [
    "ALERT",
    "CLEAR",
    "OPERATOR_ACTIONS",
    "PRE",
    "STATE_NAMES",
    "AuditLog",
    "DecideConfig",
    "Decider",
    "MemoryAuditLog",
    "OperatorAction",
]
