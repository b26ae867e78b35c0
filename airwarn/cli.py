"""The ``airwarn`` command: simulate, replay, evaluate, track, tune, serve, and the default run."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

if TYPE_CHECKING:
    from airwarn.contracts import Sensor
    from airwarn.zones.zoneset import ZoneSet

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="airwarn: civilian early warning for air threats (sensor reports -> zone alerts).",
)
console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _zones(zones: Path | None):
    """User zones from a GeoJSON file, or the built-in Ukraine region."""
    from airwarn.zones import builtin_zones, load_zones

    return load_zones(zones) if zones else builtin_zones()


def _run_replay(
    sensors: Path,
    detections: Path,
    zones: Path | None,
    out: Path,
    policy: Path | None,
    cap: bool = True,
    track_every_s: float | None = None,
):
    from airwarn.contracts import read_sensors
    from airwarn.decide.policy import Policy
    from airwarn.pipeline import replay
    from airwarn.zones import zone_set

    c0 = time.perf_counter()
    zs = zone_set(_zones(zones))
    sens = read_sensors(sensors)
    pol = Policy.load(policy)
    setup_s = time.perf_counter() - c0
    size = detections.stat().st_size
    with _progress() as prog:
        task = prog.add_task("replay", total=size)
        res = replay(
            sens,
            detections,
            zs,
            pol,
            out,
            cap=cap,
            track_every_s=track_every_s,
            progress=lambda n: prog.advance(task, n),
        )
        prog.update(task, completed=size)
    res.seconds["setup"] = setup_s
    summary = {
        "alerts": len(res.alerts),
        "track_updates": res.n_track_updates,
        "ticks": res.ticks,
        "ingest": res.ingest,
        "stage_seconds": {k: round(v, 3) for k, v in res.seconds.items()},
        "zones": len(zs),
        "sensors": len(sens),
        "zone_sensor_gap_m": round(sensor_zone_gap_m(sens, zs), 1),
    }
    (Path(out) / "replay_summary.json").write_text(json.dumps(summary, indent=1))
    return res, summary


def _print_card(card, out: Path) -> None:
    """Print the scorecard and where the report is; warn when missed or late pairs fell after
    the last sensor record (a scenario whose sensors stopped while threats still flew)."""
    console.print(card.table())
    ae = card.diagnostics.get("miss_stages", {}).get("after_input_end") or {}
    if ae.get("impact") or ae.get("overflight"):
        _say(
            f"{ae['impact']} impact and {ae['overflight']} overflight pairs missed or late had "
            "their deadline after the last sensor record: the scenario's sensors stopped while "
            "threats still flew"
        )
    console.print(f"report: {Path(out) / 'report.md'}")


def _say(text: str, style: str = "yellow") -> None:
    """Print a warning (or, red, an error) as plain text: no rich markup, so a message that
    names a policy table such as [fuse] prints whole."""
    console.print(text, style=style, markup=False, soft_wrap=True)


@app.command()
def simulate(
    out: Path = typer.Option(..., help="Directory to write the scenario into."),
    seed: int = typer.Option(1, help="Random seed."),
    hours: float = typer.Option(8.0, help="Length of the raid window, hours."),
    drones: int = typer.Option(539, help="Shahed-type drones launched."),
    cruise: int = typer.Option(7, help="Cruise missiles launched."),
    ballistic: int = typer.Option(4, help="Ballistic missiles launched."),
    acoustic: int | None = typer.Option(
        None, help="Acoustic posts in the sensor network (default: 9,500 in Ukraine, else 3,000)."
    ),
    radars: int = typer.Option(30, help="Radars in the sensor network."),
    observers: float = typer.Option(1.0, help="Relative rate of human observer reports."),
    region: str = typer.Option("ukraine", help="Theatre: ukraine (built-in), israel or synthetic."),
    night: str | None = typer.Option(
        None, help="Simulate a reported night (YYYY-MM-DD, with --attacks): counts, sites, times."
    ),
    attacks: Path | None = typer.Option(
        None, exists=True, help="missile_attacks_daily.csv (Air Force reports) for --night."
    ),
) -> None:
    """Simulate a raid and its sensor reports; write sensors, detections, truth and zones."""
    from airwarn.sim import SimParams, write_scenario

    params = SimParams(
        seed=seed,
        hours=hours,
        drones=drones,
        cruise=cruise,
        ballistic=ballistic,
        acoustic=acoustic,
        radars=radars,
        observer_rate=observers,
        region=region,
    )
    if night:  # counts, launch areas and times of a reported night
        from airwarn.sim.reported import params_from_report

        if attacks is None:
            raise typer.BadParameter("--night needs --attacks (missile_attacks_daily.csv)")
        kw = dict(seed=seed, acoustic=acoustic, radars=radars, observer_rate=observers)
        params = params_from_report(attacks, night, region=region, **kw)
    with console.status("simulating raid"):
        info = write_scenario(params, out)
    console.print(json.dumps(info, indent=1))


@app.command(name="replay")
def replay_cmd(
    sensors: Path = typer.Option(..., exists=True, help="sensors.jsonl"),
    detections: Path = typer.Option(..., exists=True, help="detections.jsonl (arrival order)"),
    out: Path = typer.Option(..., help="Output directory (alerts.jsonl, tracks.jsonl, cap/)."),
    zones: Path | None = typer.Option(
        None, exists=True, help="zones.geojson; default: built-in region."
    ),
    policy: Path | None = typer.Option(
        None, exists=True, help="Alert policy TOML; default: built-in."
    ),
    cap: bool = typer.Option(True, help="Write one CAP 1.2 XML message per alert change."),
    track_every: float | None = typer.Option(None, help="Seconds between tracks.jsonl snapshots."),
) -> None:
    """Run the pipeline on files in the public formats; write alerts.jsonl, tracks.jsonl and CAP."""
    from airwarn.contracts import read_sensors

    res, summary = _run_replay(sensors, detections, zones, out, policy, cap, track_every)
    console.print(json.dumps(summary, indent=1))
    for line in ingest_warnings(res.ingest, summary["sensors"]) + sensor_warnings(
        read_sensors(sensors)
    ):
        _say(line)
    far = summary["zone_sensor_gap_m"]
    if far > FAR_APART_M:
        _say(
            f"no zone lies within {far / 1000:,.0f} km of any sensor: the sensors cannot warn "
            "these zones. Are the coordinates in the same order in both files (GeoJSON "
            "gives [lon, lat]; sensors.jsonl has named lat and lon fields)?"
        )


FAR_APART_M = 300_000.0
"""A replay whose nearest zone is farther than this from every sensor is warned of."""


def sensor_zone_gap_m(sens: Sequence[Sensor], zs: ZoneSet) -> float:
    """Distance (m) from the zone centroids to the nearest sensor, the smallest over zones: a
    large gap means the two files describe different places (e.g. coordinates swapped)."""
    import numpy as np
    from scipy.spatial import cKDTree

    if not sens or not len(zs):
        return 0.0
    sx, sy = zs.frame.to_local(np.array([s.lat for s in sens]), np.array([s.lon for s in sens]))
    d, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([zs.cx, zs.cy]))
    return float(np.min(d))


SHORTEST_RANGE_M = {"radar": 5000.0, "acoustic": 100.0}
"""A sensor kind's range below which ``sensor_warnings`` takes range_m for kilometres."""


def sensor_warnings(sens: Sequence[Sensor]) -> list[str]:
    """Warnings on a sensors file that point at a unit written wrongly: radars or acoustic
    posts whose range_m is so short it must be kilometres (150 for a 150 km radar), which
    would leave them hearing and plotting almost nothing without a word."""
    from airwarn.contracts import SENSOR_KIND_ALIASES, canonical_name

    out = []
    kinds = [canonical_name(s.kind, SENSOR_KIND_ALIASES) for s in sens]
    for kind, lo in SHORTEST_RANGE_M.items():
        short = [s for s, k in zip(sens, kinds, strict=True) if k == kind and s.range_m < lo]
        if short:
            ex = short[0]
            out.append(
                f"{len(short)} {kind} sensor(s) have range_m below {lo:,.0f} m (e.g. "
                f"{ex.id!r}: {ex.range_m:g} m): range_m is in metres; kilometres were "
                "probably meant"
            )
    return out


def ingest_warnings(ing: dict, n_sensors: int) -> list[str]:
    """Warnings on a replay's input counts that point at a file written wrongly: bad lines,
    many reports dropped as too late (lines not in arrival order), most reports naming
    sensors absent from sensors.jsonl (taken as phone observers), position errors written
    in kilometres, reports far beyond their sensor's range (lat and lon swapped), no
    heartbeats at all, a sensor whose clock runs hours ahead."""
    from airwarn.ingest import AHEAD_LEAD_S, BEYOND_RANGE, PRECISE_SIGMA_M

    out = []
    if ing["errors"]:
        out.append(f"{ing['errors']} bad lines skipped; first: {ing['error_samples'][:3]}")
    if ing["too_late"] > 0.05 * max(ing["lines"], 1):
        out.append(
            f"{ing['too_late']} of {ing['lines']} lines came more than 60 s after later ones and "
            "were dropped: detections.jsonl must list lines in arrival order"
        )
    if ing.get("ahead"):
        who = ", ".join(
            repr(k) if v is None else f"{k!r} ({v / 3600:+.2f} h)"
            for k, v in list(ing["ahead_sensors"].items())[:5]
        )
        out.append(
            f"{ing['ahead']} lines ran more than {AHEAD_LEAD_S:g} s ahead of every other "
            f"sensor's clock and were dropped, from {who}: is that sensor's clock set "
            "wrong (local time written as UTC)? Times are UTC"
        )
    if n_sensors and ing["unregistered"] > 0.5 * max(ing["reports"], 1):
        out.append(
            f"{ing['unregistered']} of {ing['reports']} reports name sensors absent from "
            "sensors.jsonl and were taken as phone observers: do the sensor ids match?"
        )

    registered = ing["reports"] - ing["unregistered"]
    if ing.get("beyond_range", 0) > 0.5 * max(registered, 1):
        out.append(
            f"{ing['beyond_range']} of {registered} reports of registered sensors lie more "
            f"than {BEYOND_RANGE:g} times their sensor's range_m from it: are lat and lon "
            "swapped in detections.jsonl, or range_m written in the wrong unit?"
        )
    if ing.get("precise", 0) > 0.5 * max(ing["reports"], 1):
        out.append(
            f"{ing['precise']} of {ing['reports']} reports give a sigma_m below "
            f"{PRECISE_SIGMA_M:g} m, finer "
            "than radars, posts or phones locate a flyer: sigma_m is in metres; kilometres "
            "were probably meant"
        )
    if n_sensors and ing["reports"] and not ing.get("heartbeats", 1):
        out.append(
            "no heartbeat lines: every registered sensor is taken as up (policy "
            "assume_up_without_heartbeats), and none for dead: degraded mode cannot widen "
            "alerts around failed sensors"
        )
    return out


@app.command()
def evaluate(
    scenario: Path = typer.Option(..., exists=True, help="Scenario directory (truth.jsonl)."),
    alerts: Path = typer.Option(..., exists=True, help="alerts.jsonl to score."),
    zones: Path | None = typer.Option(
        None, help="zones.geojson; default: scenario's, else built-in."
    ),
    out: Path | None = typer.Option(None, help="Report directory; default: beside the alerts."),
) -> None:
    """Score alerts against the scenario's truth; write report.md and figures."""
    from airwarn.evaluate import evaluate_files

    out = out or alerts.parent
    with console.status("evaluating"):
        card = evaluate_files(scenario, alerts, out, zones_path=zones)
    _print_card(card, out)


@app.command()
def track(
    sensors: Path = typer.Option(..., exists=True, help="sensors.jsonl"),
    detections: Path = typer.Option(..., exists=True, help="detections.jsonl"),
    out: Path = typer.Option(..., help="tracks.jsonl to write."),
    scan: float | None = typer.Option(None, help="Output interval, s; default: every report time."),
    policy: Path | None = typer.Option(
        None, exists=True, help="Policy TOML whose [fuse] table sets the tracker."
    ),
) -> None:
    """Fusion alone: write every live track at each output time (tracks.jsonl)."""
    from airwarn.decide.policy import Policy
    from airwarn.fuse import TrackerConfig, run_track

    pol = Policy.load(policy)
    cfg = TrackerConfig.from_dict(pol.fuse, pol.source)
    stats = run_track(sensors, detections, out, scan_s=scan, config=cfg)
    print(json.dumps(stats))


@app.command()
def run(
    out: Path = typer.Option(
        Path("runs/default"), help="Directory for scenario, alerts and report."
    ),
    seed: int = typer.Option(1, help="Random seed of the simulated raid."),
    drones: int = typer.Option(539, help="Shahed-type drones (record raid: 539)."),
    cruise: int = typer.Option(7, help="Cruise missiles."),
    ballistic: int = typer.Option(4, help="Ballistic missiles."),
    acoustic: int | None = typer.Option(
        None, help="Acoustic posts (default: 9,500, the size of Ukraine's network)."
    ),
) -> None:
    """The main job: simulate a record night raid, replay it through the pipeline, report."""
    from airwarn.evaluate import evaluate_files
    from airwarn.sim import SimParams, write_scenario

    scen = out / "scenario"
    c0 = time.perf_counter()
    with console.status("simulating the record raid"):
        info = write_scenario(
            SimParams(
                seed=seed, drones=drones, cruise=cruise, ballistic=ballistic, acoustic=acoustic
            ),
            scen,
        )
    sim_s = time.perf_counter() - c0
    console.print(
        f"simulated {info.get('threats')} threats, {info.get('detections')} report lines in {sim_s:.1f} s"
    )
    zones_path = scen / "zones.geojson"
    res, summary = _run_replay(
        scen / "sensors.jsonl",
        scen / "detections.jsonl",
        zones_path if zones_path.exists() else None,
        out,
        None,
        cap=True,
    )
    with console.status("evaluating"):
        card = evaluate_files(
            scen,
            out / "alerts.jsonl",
            out,
            zones_path=zones_path if zones_path.exists() else None,
            stage_seconds={"simulate": sim_s, **summary["stage_seconds"]},
        )
    _print_card(card, out)


@app.command()
def tune(
    scenarios: list[Path] = typer.Option(..., help="Scenario directories to sweep over."),
    out: Path = typer.Option(Path("runs/tune"), help="Output directory for the trade-off plot."),
    policy: Path | None = typer.Option(None, exists=True, help="Base policy TOML."),
) -> None:
    """Sweep alert thresholds over scenarios; plot misses against person-hours under alert."""
    from airwarn.decide.tune import tune as do_tune

    do_tune(scenarios, out, policy)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    data: Path = typer.Option(Path("runs/serve"), help="State directory (SQLite event log)."),
    zones: Path | None = typer.Option(None, exists=True, help="zones.geojson; default: built-in."),
    sensors: Path | None = typer.Option(None, exists=True, help="sensors.jsonl registry."),
    replay_dir: Path | None = typer.Option(
        None, "--replay", exists=True, help="Scenario to play live."
    ),
    speed: float = typer.Option(1.0, help="Replay speed-up factor."),
    policy: Path | None = typer.Option(
        None, exists=True, help="Alert policy TOML; default: built-in."
    ),
) -> None:
    """Run the live service: HTTP/MQTT ingest, CAP feed, JSON API, streams and the live map."""
    from airwarn.serve import main as serve_main

    serve_main(
        host=host,
        port=port,
        data=data,
        zones=zones,
        sensors=sensors,
        replay_dir=replay_dir,
        speed=speed,
        policy=policy,
    )


@app.command(name="zones")
def zones_cmd(
    source: str = typer.Option(
        "builtin",
        "--from",
        help="builtin | hromadas, raions, oblasts (OCHA COD-AB Hromadas.geojson, "
        "Raions.geojson, Oblasts.geojson) | israel (HFC areas) | polygons (any GeoJSON "
        "polygons: missing population, shelter time and region filled in).",
    ),
    src: Path | None = typer.Option(
        None,
        exists=True,
        help="Source file or folder (hromadas, raions, oblasts, israel, polygons).",
    ),
    shelter_s: float | None = typer.Option(
        None,
        "--shelter-s",
        help="polygons: time to shelter (s) of areas whose file gives none (default: by the "
        "size of the area's largest place, 60-120 s).",
    ),
    out: Path = typer.Option(Path("zones.geojson"), help="zones.geojson to write."),
    exclude_oblast: list[str] = typer.Option(
        [],
        help="Leave out this oblast: builtin by GeoNames code or name (11 = Crimea), OCHA "
        "levels by P-code or English name (UA01 = Crimea).",
    ),
    controlled_only: bool = typer.Option(
        False,
        "--controlled-only",
        help="Keep only areas on government-controlled land (a rough line of contact; "
        "occupied land has no sensors or sirens). builtin --controlled-only is the default "
        "region of replay and serve.",
    ),
) -> None:
    """Write a zones.geojson: the built-in region, OCHA hromadas, raions or oblasts,
    Israel's HFC alert areas, or any polygons with what they lack filled in."""
    from airwarn.zones.importers import import_zones, write_geojson

    try:
        res = import_zones(
            source,
            src,
            exclude_oblasts=exclude_oblast,
            controlled_only=controlled_only,
            shelter_s=shelter_s,
        )
    except ValueError as exc:  # RecordError included
        _say(f"error: {exc}", "red")
        raise typer.Exit(2) from exc
    n = write_geojson(out, res)
    pop = sum(z.population for z in res.zones)
    console.print(f"wrote {n} zones ({pop:,} people) to {out}")
    if res.skipped:
        first = ", ".join(f"{zid} ({why})" for zid, why in res.skipped[:5])
        console.print(f"[yellow]skipped {len(res.skipped)} source features: {first} ...")


def main() -> None:
    """The console entry point: run the command; a bad input record (a sensors, zones,
    truth or alerts file the command cannot use) or a bad policy key ends it with the
    message and exit status 2 rather than a traceback."""
    from airwarn.contracts import PolicyError, RecordError

    try:
        app()
    except (RecordError, PolicyError) as exc:
        _say(f"error: {exc}", "red")
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
