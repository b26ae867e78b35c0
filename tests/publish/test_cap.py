"""CAP 1.2 messages: every message kind validates (own schema and the official XSD),
meets the Google Public Alerts profile, references earlier messages, and is deterministic."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xmlschema
from lxml import etree
from shapely.geometry import MultiPolygon, Point, Polygon, box

from airwarn.contracts import AlertChange, Zone
from airwarn.publish import Publisher
from airwarn.publish.cap import (
    CAP_NS,
    MAX_POLYGON_POINTS,
    CapError,
    CapWriter,
    build_cap,
    cap_identifier,
    cap_polygons,
    cap_time,
    check_google_profile,
    parse_cap_time,
    validate_cap,
)
from airwarn.zones import zone_set

T0 = 1_752_024_225.0  # 2025-07-09T01:23:45Z
NS = {"c": CAP_NS}


def _zones():
    # a plain square, a detailed "city" with a hole and an island, a Hebrew-named area
    circle = Point(30.5, 50.45).buffer(0.15, quad_segs=256)  # ~1000 vertices
    city = MultiPolygon(
        [
            Polygon(circle.exterior.coords, [Point(30.5, 50.45).buffer(0.02).exterior.coords]),
            box(30.8, 50.3, 30.85, 50.35),
        ]
    )
    return [
        Zone("Z1", "Village", 800, 60.0, "Sumy", box(33.0, 51.0, 33.05, 51.03)),
        Zone("UA8000000", "Kyiv", 2_900_000, 120.0, "UA80", city),
        Zone("5000511", "אבו גוש", 7000, 90.0, "בית שמש", box(35.10, 31.80, 35.12, 31.82)),
    ]


@pytest.fixture(scope="module")
def zs():
    return zone_set(_zones())


@pytest.fixture(scope="module")
def official(shared_data):
    path = shared_data / "cap_1_2" / "CAP-v1.2.xsd"
    return path, xmlschema.XMLSchema(str(path))


def _changes():
    return [
        AlertChange(T0, "Z1", "pre_alert", "drone", 900.0, ("T000001",)),
        AlertChange(T0 + 300, "Z1", "alert", "drone", 420.0, ("T000001",)),
        AlertChange(T0 + 310, "UA8000000", "alert", "ballistic", 95.0, ("T000007", "T000008")),
        AlertChange(T0 + 400, "Z1", "alert", "drone", 200.0, ("T000001", "T000002")),  # extend
        AlertChange(T0 + 900, "Z1", "clear"),
        AlertChange(T0 + 905, "Z1", "clear"),  # nothing open: skipped
        AlertChange(T0 + 960, "5000511", "alert", None, None, None),
        AlertChange(T0 + 1500, "5000511", "clear"),
        AlertChange(T0 + 1600, "UA8000000", "clear"),
    ]


def _write(tmp_path, zs, name="cap"):
    w = CapWriter(tmp_path / name, zs)
    files = w.publish(_changes())
    w.close()
    return w, files


def _text(root, path):
    el = root.find(path, NS)
    return None if el is None else el.text


def test_times_and_ids():
    assert cap_time(T0 + 0.9) == "2025-07-09T01:23:45+00:00"
    assert parse_cap_time("2025-07-09T04:23:45+03:00") == T0
    with pytest.raises(ValueError):
        parse_cap_time("2025-07-09T01:23:45Z")
    c = AlertChange(T0 + 0.25, "אבו גוש", "alert")
    ident = cap_identifier(c)
    assert ident == "airwarn.%D7%90%D7%91%D7%95%20%D7%92%D7%95%D7%A9.alert.1752024225250"
    assert not any(ch in ident for ch in " ,<&")


def test_message_kinds_and_references(tmp_path, zs):
    w, files = _write(tmp_path, zs)
    assert w.skipped == 1
    assert len(files) == 8
    assert [f.name for f in files] == sorted(f.name for f in files)
    assert files[6].name == "000007-5000511.xml"
    roots = [etree.fromstring(f.read_bytes()) for f in files]
    kinds = [(_text(r, "c:msgType"), _text(r, "c:info/c:event")) for r in roots]
    assert kinds == [
        ("Alert", "Air threat pre-alert"),
        ("Update", "Air raid alert"),
        ("Alert", "Air raid alert"),
        ("Update", "Air raid alert"),
        ("Cancel", "Air raid alert"),
        ("Alert", "Air raid alert"),
        ("Cancel", "Air raid alert"),
        ("Cancel", "Air raid alert"),
    ]
    ids = [_text(r, "c:identifier") for r in roots]
    assert len(set(ids)) == len(ids)
    # the Z1 Cancel references the pre-alert, the alert and the extension, in order
    refs = _text(roots[4], "c:references").split()
    assert [r.split(",")[1] for r in refs] == [ids[0], ids[1], ids[3]]
    assert refs[0] == f"airwarn@localhost,{ids[0]},2025-07-09T01:23:45+00:00"
    assert _text(roots[4], "c:incidents") == ids[0]
    # urgency / severity / certainty / responseType per state
    fields = [
        tuple(
            _text(r, f"c:info/c:{k}") for k in ("urgency", "severity", "certainty", "responseType")
        )
        for r in roots[:2] + roots[4:5]
    ]
    assert fields == [
        ("Expected", "Severe", "Likely", "Prepare"),
        ("Immediate", "Extreme", "Observed", "Shelter"),
        ("Past", "Minor", "Observed", "AllClear"),
    ]
    params = {
        p.find("c:valueName", NS).text: p.find("c:value", NS).text
        for p in roots[2].findall("c:info/c:parameter", NS)
    }
    assert params == {
        "state": "alert",
        "cls": "ballistic",
        "eta_s": "95",
        "shelter_s": "120",
        "tracks": "T000007,T000008",
    }
    assert _text(roots[2], "c:info/c:onset") == cap_time(T0 + 310 + 95)
    assert _text(roots[2], "c:info/c:expires") == cap_time(T0 + 310 + 3 * 3600)
    index = [json.loads(x) for x in (tmp_path / "cap" / "index.jsonl").read_text().splitlines()]
    assert [r["file"] for r in index] == [f.name for f in files]
    assert [r["msgType"] for r in index] == [k for k, _ in kinds]


def test_every_message_valid_everywhere(tmp_path, zs, official):
    xsd_path, official_schema = official
    _, files = _write(tmp_path, zs)
    for f in files:
        xml = f.read_bytes()
        validate_cap(xml)  # airwarn's own schema + spec rules
        validate_cap(xml, xsd=xsd_path)  # the official OASIS schema (lxml)
        official_schema.validate(xml.decode("utf-8"))  # ... and with xmlschema
        assert check_google_profile(xml) == [], f.name


def test_official_examples_pass_own_schema(shared_data):
    for f in sorted((shared_data / "cap_1_2" / "examples").glob("*.xml")):
        validate_cap(f.read_bytes())


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("<status>Actual</status>", "<status>Real</status>", "status"),
        ("<scope>Public</scope>", "", "scope"),
        ("+00:00</sent>", "Z</sent>", "sent"),
        ("<urgency>Immediate</urgency>", "<urgency>Now</urgency>", "urgency"),
        ("<event>", "<eventt>", "eventt"),
    ],
)
def test_schema_errors_agree_with_official(zs, official, old, new, expect):
    xsd_path, _ = official
    z = zs.zones[0]
    xml = build_cap(AlertChange(T0, z.id, "alert", "drone", 60.0), z).decode()
    if new == "<eventt>":
        xml = xml.replace("<event>Air raid alert</event>", "<eventt>Air raid alert</eventt>")
    else:
        assert old in xml
        xml = xml.replace(old, new, 1)
    with pytest.raises(CapError, match=expect):
        validate_cap(xml.encode())
    with pytest.raises(CapError):
        validate_cap(xml.encode(), xsd=xsd_path)


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda s: s.replace("<identifier>airwarn.", "<identifier>air warn."), "identifier"),
        (lambda s: s.replace("</polygon>", " 1,1</polygon>"), "first and last"),
        (lambda s: s.replace("<polygon>", "<polygon>95.0,1.0 "), "at least 4|first and last"),
        (
            lambda s: s.replace(
                "<scope>Public</scope>", "<scope>Public</scope><references>x</references>"
            ),
            "sender,identifier,sent",
        ),
        (lambda s: s.replace("<alert ", "<alert><x>", 1), "well-formed"),
    ],
)
def test_spec_rules(zs, mutate, expect):
    z = zs.zones[0]
    xml = build_cap(AlertChange(T0, z.id, "alert", "drone", 60.0), z).decode()
    with pytest.raises(CapError, match=expect):
        validate_cap(mutate(xml).encode())


def test_google_profile_finds_problems(zs):
    z = zs.zones[0]
    good = build_cap(AlertChange(T0, z.id, "alert", "drone", 60.0), z).decode()
    assert check_google_profile(good) == []
    bad = good.replace("take shelter now", "x" * 150)
    bad = bad.replace("<msgType>Alert</msgType>", "<msgType>Update</msgType>")
    bad = bad.replace(
        "<expires>2025-07-09T04:23:45+00:00</expires>",
        "<expires>2025-07-09T01:00:00+00:00</expires>",
    )
    root = etree.fromstring(bad.encode())
    for el in root.findall(".//c:polygon", NS) + root.findall(".//c:geocode", NS):
        el.getparent().remove(el)
    problems = check_google_profile(etree.tostring(root))
    text = " | ".join(problems)
    assert "headline" in text and "references" in text and "after <sent>" in text
    assert "needs a <polygon>, <circle> or <geocode>" in text
    assert len(problems) == 4


def test_polygons_simplified(zs):
    city = zs.zones[zs.index["UA8000000"]]
    polys = cap_polygons(city.geometry)
    assert len(polys) == 2  # the big part (hole dropped) and the island
    for p in polys:
        pts = p.split()
        assert 4 <= len(pts) <= MAX_POLYGON_POINTS
        assert pts[0] == pts[-1]
        ll = np.array([[float(v) for v in pt.split(",")] for pt in pts])
        assert Polygon(ll[:, ::-1]).is_valid
    big = Polygon([tuple(map(float, pt.split(",")))[::-1] for pt in polys[0].split()])
    shell = Polygon(city.geometry.geoms[0].exterior)
    assert abs(big.area - shell.area) / shell.area < 0.01
    # a square stays a square (5 points, lat first)
    sq = cap_polygons(box(33.0, 51.0, 33.05, 51.03))[0].split()
    assert len(sq) == 5 and sorted(set(sq)) == sorted(
        ["51.00000,33.00000", "51.03000,33.00000", "51.03000,33.05000", "51.00000,33.05000"]
    )


def test_deterministic(tmp_path, zs):
    _, a = _write(tmp_path, zs, "a")
    _, b = _write(tmp_path, zs, "b")
    assert [f.name for f in a] == [f.name for f in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_refresh_and_unknown_zone(tmp_path, zs):
    w = CapWriter(tmp_path / "r", zs)
    w.publish([AlertChange(T0, "Z1", "alert", "cruise", 600.0)])
    assert w.refresh(T0 + 3600) == []  # far from expiry
    files = w.refresh(T0 + 3 * 3600 - 600)
    assert len(files) == 1
    root = etree.fromstring(files[0].read_bytes())
    assert _text(root, "c:msgType") == "Update"
    assert _text(root, "c:info/c:expires") == cap_time(T0 + 6 * 3600 - 600)
    validate_cap(files[0].read_bytes())
    with pytest.raises(KeyError, match="unknown zone 'nope'"):
        w.publish([AlertChange(T0, "nope", "alert")])
    w.close()


def test_long_names_fit(zs):
    z = Zone("L", "N" * 300, 100, 60.0, "R" * 80, box(0, 0, 0.01, 0.01))
    for state in ("alert", "pre_alert", "clear"):
        xml = build_cap(
            AlertChange(T0, "L", state, eta_s=30.0), z, references="a,b,2025-07-09T01:23:45+00:00"
        )
        validate_cap(xml)
        assert check_google_profile(xml) == []


def test_publisher_writes_cap(tmp_path, zs):
    pub = Publisher(tmp_path / "out", zs)
    assert pub.alerts(_changes()[:3]) == 3
    pub.close()
    files = sorted((tmp_path / "out" / "cap").glob("*.xml"))
    assert len(files) == 3
    for f in files:
        validate_cap(f.read_bytes())


def test_auto_refresh_keeps_long_alerts_alive(tmp_path, zs):
    w = CapWriter(tmp_path / "a", zs)
    w.publish([AlertChange(T0, "Z1", "alert", "drone", 600.0)])
    # another zone changes 2 h 50 min later: Z1's alert (expiring at 3 h) is re-issued
    files = w.publish([AlertChange(T0 + 10_200, "5000511", "pre_alert", "drone", 900.0)])
    w.close()
    kinds = [
        (_text(r, "c:msgType"), _text(r, "c:info/c:area/c:geocode/c:value"))
        for r in (etree.fromstring(f.read_bytes()) for f in files)
    ]
    assert kinds == [("Alert", "5000511"), ("Update", "Z1")]
    # a new writer on the same folder starts clean
    CapWriter(tmp_path / "a", zs).close()
    assert list((tmp_path / "a").glob("*.xml")) == []


def test_odd_characters_escaped(zs):
    z = Zone("odd&<id>", "A & B <x>\x01 \"q\" 'a'", 10, 60.0, "R&D", box(0, 0, 0.01, 0.01))
    xml = build_cap(AlertChange(T0, z.id, "alert", "unknown", 30.0, ("T<1>",)), z)
    validate_cap(xml)
    root = etree.fromstring(xml)
    assert _text(root, "c:info/c:area/c:areaDesc") == "A & B <x> \"q\" 'a', R&D"
    assert _text(root, "c:info/c:area/c:geocode/c:value") == "odd&<id>"
    assert "zone=odd%26%3Cid%3E" in _text(root, "c:info/c:web")
