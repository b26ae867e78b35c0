"""The policy's [fuse] table: read into TrackerConfig, defaults kept true, bad keys named."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from airwarn.decide.policy import Policy
from airwarn.fuse import TrackerConfig
from airwarn.geo import LocalFrame
from airwarn.pipeline import Pipeline
from airwarn.zones.zoneset import ZoneSet
from tests.predict.conftest import square_zone


def test_policy_fuse_table_matches_code_defaults():
    sec = Policy.load().fuse
    assert sec  # the default file documents the keys agencies are likely to change
    defaults = asdict(TrackerConfig())
    for k, v in sec.items():
        assert defaults[k] == (tuple(v) if isinstance(v, list) else v), k  # TOML arrays


def test_fuse_table_sets_the_tracker_and_caller_keys_win():
    cfg = TrackerConfig.from_dict(
        {"fast_ac_min_speed": 90, "fast_ac_confirm_posts": 4.0, "imm_sojourn_s": [30, 10, 10]},
        "p.toml",
        process_lag_s=5.0,
    )
    assert cfg.fast_ac_min_speed == 90.0 and isinstance(cfg.fast_ac_min_speed, float)
    assert cfg.fast_ac_confirm_posts == 4 and isinstance(cfg.fast_ac_confirm_posts, int)
    assert cfg.imm_sojourn_s == (30.0, 10.0, 10.0)
    assert cfg.process_lag_s == 5.0


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"fast_ac_min_sped": 90.0}, "'fast_ac_min_sped'"),
        ({"process_lag_s": 1.0}, "'process_lag_s'"),  # set from fuse_lag_s, not here
        ({"fast_acoustic": "yes"}, "'fast_acoustic'"),
        ({"fast_ac_confirm_posts": 3.5}, "'fast_ac_confirm_posts'"),
        ({"imm_turn_accel": True}, "'imm_turn_accel'"),
        ({"imm_sojourn_s": [60.0, 15.0]}, "'imm_sojourn_s'"),
    ],
)
def test_bad_fuse_key_is_named(table, named):
    with pytest.raises(ValueError, match=named) as exc:
        TrackerConfig.from_dict(table, "p.toml", process_lag_s=5.0)
    assert "p.toml" in str(exc.value)


def test_pipeline_tracker_reads_the_policy_file(tmp_path):
    p = tmp_path / "policy.toml"
    p.write_text("[fuse]\nfast_ac_max_dt_s = 180.0\n", encoding="utf-8")
    frame = LocalFrame(48.6, 31.3)
    zones = ZoneSet([square_zone(frame, "z", 0.0, 0.0, 2000.0)], frame)
    pipe = Pipeline([], zones, Policy.load(p))
    assert pipe.tracker.cfg.fast_ac_max_dt_s == 180.0
    assert pipe.tracker.cfg.fast_ac_min_speed == TrackerConfig().fast_ac_min_speed
    p.write_text("[fuse]\nfast_ac_max_dt = 180.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="fast_ac_max_dt"):
        Pipeline([], zones, Policy.load(p))
