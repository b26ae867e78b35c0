"""The policy TOML: defaults documented and consistent, user overrides, clear errors."""

from __future__ import annotations

import re
import tomllib

import pytest

from airwarn.decide.config import GLOBAL, LIST_KEYS, PER_CLASS, DecideConfig
from airwarn.decide.policy import DEFAULT_POLICY, Policy


def test_every_decide_key_is_documented_with_its_default() -> None:
    text = DEFAULT_POLICY.read_text()
    doc = tomllib.loads(text)["decide"]
    lines = text.splitlines()
    for key, spec in {**GLOBAL, **PER_CLASS, **{k: (v,) for k, v in LIST_KEYS.items()}}.items():
        assert key in doc, key
        assert doc[key] == spec[0], key
        i = next(i for i, s in enumerate(lines) if re.match(rf"{key}\s*=", s))
        assert lines[i - 1].startswith("#"), f"{key} has no comment above it"


def test_user_file_overrides_one_class_and_keeps_the_rest(tmp_path) -> None:
    f = tmp_path / "p.toml"
    f.write_text("tick_s = 10\n[decide]\nalert_p = 0.1\n[decide.by_class.drone]\nhold_s = 120\n")
    pol = Policy.load(f)
    cfg = DecideConfig.from_policy(pol)
    assert cfg.tick_s == 10.0
    assert cfg.per_class["hold_s"][0] == 120.0  # drone
    assert cfg.per_class["hold_s"][3] == 600.0  # ballistic default kept (deep merge)
    assert bool(cfg.per_class["any_eta"][3])
    assert cfg.per_class["alert_p"][0] == 0.1 and cfg.per_class["alert_p"][3] == 0.02
    assert pol.assume_up_without_heartbeats  # the default kept
    f.write_text("assume_up_without_heartbeats = false\n")
    assert not Policy.load(f).assume_up_without_heartbeats


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[decide]\nalert_pp = 0.1\n", "alert_pp"),
        ("[decide]\nalert_p = 'high'\n", "alert_p"),
        ("[decide]\nalert_p = 1.5\n", "alert_p"),
        ("[decide]\nany_eta = 1\n", "any_eta"),
        ("[decide.by_class.tank]\nhold_s = 1\n", "tank"),
        ("[decide.by_class.drone]\nlatency_s = 1\n", "latency_s"),
        ("[decide]\ndanger_order = ['drone', 'ufo']\n", "danger_order"),
        ("[decide]\ntune_p_scale = []\n", "tune_p_scale"),
        ("tick_s = -1\n", "tick_s"),
        ("tik_s = 5\n", "tik_s"),
        ("assume_up_without_heartbeats = 1\n", "assume_up_without_heartbeats"),
        ("[decide\n", "not valid TOML"),
    ],
)
def test_bad_policy_gives_a_clear_error(tmp_path, text, match) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ValueError, match=match) as ei:
        Policy.load(f)
    assert "bad.toml" in str(ei.value)
