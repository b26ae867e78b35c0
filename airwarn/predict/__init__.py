"""predict: per (zone, track) probability and time of arrival of each threat.

``Predictor(zones, policy).update(tracks) -> ZoneThreats``; settings come from the
policy's ``[predict]`` table (documented in ``airwarn/decide/policy.toml``).
"""

from airwarn.predict.config import PredictConfig
from airwarn.predict.predictor import Predictor

__all__ = ["PredictConfig", "Predictor"]
