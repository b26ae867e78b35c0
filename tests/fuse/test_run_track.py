"""``airwarn track`` (run_track) end to end on small scenario files."""

from __future__ import annotations

import json

import numpy as np

from airwarn.contracts import write_jsonl
from airwarn.fuse import run_track
from tests.fuse.conftest import FRAME


def _write_scenario(tmp_path, n_targets=3, scans=20, seed=0):
    rng = np.random.default_rng(seed)
    lat, lon = FRAME.to_geo(np.array([0.0]), np.array([0.0]))
    sensors = [{"id": "r1", "kind": "radar", "lat": float(lat[0]), "lon": float(lon[0]),
                "range_m": 100000.0}]  # fmt: skip
    rows = []
    p0 = rng.uniform(-20000, 20000, (n_targets, 2))
    v = rng.normal(0, 35, (n_targets, 2))
    t0 = 1_750_000_000.0
    k = 0
    for s in range(scans):
        xy = p0 + v * s + rng.normal(0, 50, p0.shape)
        la, lo = FRAME.to_geo(xy[:, 0], xy[:, 1])
        for j in rng.permutation(n_targets):
            rows.append({"t": t0 + s, "sensor": "r1", "lat": float(la[j]), "lon": float(lo[j]),
                         "sigma_m": 50.0, "id": f"d{k}"})  # fmt: skip
            k += 1
    write_jsonl(tmp_path / "sensors.jsonl", sensors)
    write_jsonl(tmp_path / "detections.jsonl", rows)
    return t0, scans


def test_run_track_writes_every_live_track_at_every_scan(tmp_path):
    t0, scans = _write_scenario(tmp_path)
    out = tmp_path / "tracks.jsonl"
    stats = run_track(tmp_path / "sensors.jsonl", tmp_path / "detections.jsonl", out)
    assert stats["measurements"] == 3 * scans
    assert stats["scans"] == scans
    assert stats["tracker_s"] > 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == stats["track_updates"]
    keys = {"t", "track", "lat", "lon", "alt_m", "vel_e", "vel_n", "vel_u", "cls", "confirmed",
            "sigma_m"}  # fmt: skip
    assert all(set(x) == keys for x in lines)
    by_t: dict[float, list] = {}
    for x in lines:
        by_t.setdefault(x["t"], []).append(x)
    assert sorted(by_t) == [round(t0 + s, 3) for s in range(scans)]
    last = by_t[max(by_t)]
    assert sum(x["confirmed"] for x in last) == 3
    assert len({x["track"] for x in last}) == len(last)


def test_run_track_regular_scan_and_no_sensors_file(tmp_path):
    _write_scenario(tmp_path)
    out = tmp_path / "tracks.jsonl"
    stats = run_track(None, tmp_path / "detections.jsonl", out, scan_s=5.0)
    assert stats["scans"] == 4
    ts = {json.loads(x)["t"] for x in out.read_text().splitlines()}
    assert all(abs(t / 5.0 - round(t / 5.0)) < 1e-6 for t in ts)


def test_track_command_reads_the_policy_fuse_table(tmp_path):
    """``airwarn track --policy``: the [fuse] table sets the tracker (here: tracks need 50
    radar scans to confirm, so none of the 20-scan tracks does); a bad key is named."""
    from typer.testing import CliRunner

    from airwarn.cli import app

    _write_scenario(tmp_path)
    args = ["track", "--sensors", str(tmp_path / "sensors.jsonl"), "--detections",
            str(tmp_path / "detections.jsonl"), "--out", str(tmp_path / "t.jsonl")]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    last = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert any(x["confirmed"] for x in last)
    pol = tmp_path / "p.toml"
    pol.write_text("[fuse]\nconfirm_radar_scans = 50\nfast_confirm_scans = 50\n")
    res = CliRunner().invoke(app, [*args, "--policy", str(pol)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert lines and not any(x["confirmed"] for x in lines)
    pol.write_text("[fuse]\nconfirm_scanz = 5\n")
    res = CliRunner().invoke(app, [*args, "--policy", str(pol)])
    assert res.exit_code != 0 and "confirm_scanz" in str(res.exception) + res.output
