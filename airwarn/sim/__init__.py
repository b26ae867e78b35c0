"""sim: seeded raids, sensor networks and their reports, written in the public file formats.

``write_scenario(SimParams(...), out_dir)`` writes sensors.jsonl, detections.jsonl (arrival
order, heartbeats, duplicates), truth.jsonl, zones.geojson and scenario.json. See
:mod:`airwarn.sim.params` for every model knob and :mod:`airwarn.sim.theatre` for regions.
"""

from airwarn.sim.params import SimParams
from airwarn.sim.scenario import Scenario, simulate, summary, truth_threats, write_scenario
from airwarn.sim.theatre import THEATRES, Site, Theatre, synthetic_theatre, ukraine_theatre

__all__ = [
    "THEATRES",
    "Scenario",
    "SimParams",
    "Site",
    "Theatre",
    "simulate",
    "summary",
    "synthetic_theatre",
    "truth_threats",
    "ukraine_theatre",
    "write_scenario",
]
