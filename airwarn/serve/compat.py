"""Compatibility outputs read by existing clients, unmodified.

* alerts.in.ua (``api.alerts.in.ua/v1/...``, the PyPI client ``alerts-in-ua``):
  ``alerts/active.json`` (one alert per zone under alert, ``location_type`` ``hromada``,
  with its oblast), ``iot/active_air_raid_alerts.json`` (one status character per
  location uid: ``A``/``R``/``Y`` whole oblast, ``P`` part of it, ``N`` none, space
  undefined), ``iot/active_air_raid_alerts_by_oblast.json`` (27 characters in the
  client's oblast order) and ``iot/active_air_raid_alerts/{uid}.json``. Version 2 of the
  IoT endpoints splits alerts into red (``R``, alert) and yellow (``Y``, pre-alert).
* Israel Home Front Command ``alerts.json`` (``id``, ``cat``, ``title``, ``data``,
  ``desc``): the zones under alert by name; an empty body when nothing is active.
"""

from __future__ import annotations

from datetime import UTC, datetime

# english name (airwarn built-in regions) -> (alerts.in.ua uid, Ukrainian title)
OBLAST_UIDS: dict[str, tuple[int, str]] = {
    "Crimea": (29, "Автономна Республіка Крим"),
    "Volyn": (8, "Волинська область"),
    "Vinnytsia": (4, "Вінницька область"),
    "Dnipropetrovsk": (9, "Дніпропетровська область"),
    "Donetsk": (28, "Донецька область"),
    "Zhytomyr": (10, "Житомирська область"),
    "Zakarpattia": (11, "Закарпатська область"),
    "Zaporizhzhia": (12, "Запорізька область"),
    "Ivano-Frankivsk": (13, "Івано-Франківська область"),
    "Kyiv City": (31, "м. Київ"),
    "Kyiv": (14, "Київська область"),
    "Kirovohrad": (15, "Кіровоградська область"),
    "Luhansk": (16, "Луганська область"),
    "Lviv": (27, "Львівська область"),
    "Mykolaiv": (17, "Миколаївська область"),
    "Odesa": (18, "Одеська область"),
    "Poltava": (19, "Полтавська область"),
    "Rivne": (5, "Рівненська область"),
    "Sevastopol": (30, "м. Севастополь"),
    "Sumy": (20, "Сумська область"),
    "Ternopil": (21, "Тернопільська область"),
    "Kharkiv": (22, "Харківська область"),
    "Kherson": (23, "Херсонська область"),
    "Khmelnytskyi": (3, "Хмельницька область"),
    "Cherkasy": (24, "Черкаська область"),
    "Chernivtsi": (26, "Чернівецька область"),
    "Chernihiv": (25, "Чернігівська область"),
}
_BY_TITLE = {title: (uid, title) for uid, title in OBLAST_UIDS.values()}
# the order of iot/active_air_raid_alerts_by_oblast.json (the client's LOCATIONS list)
OBLAST_ORDER: tuple[str, ...] = (
    "Автономна Республіка Крим",
    "Волинська область",
    "Вінницька область",
    "Дніпропетровська область",
    "Донецька область",
    "Житомирська область",
    "Закарпатська область",
    "Запорізька область",
    "Івано-Франківська область",
    "м. Київ",
    "Київська область",
    "Кіровоградська область",
    "Луганська область",
    "Львівська область",
    "Миколаївська область",
    "Одеська область",
    "Полтавська область",
    "Рівненська область",
    "м. Севастополь",
    "Сумська область",
    "Тернопільська область",
    "Харківська область",
    "Херсонська область",
    "Хмельницька область",
    "Черкаська область",
    "Чернівецька область",
    "Чернігівська область",
)
IOT_LEN = 32  # uids 0..31 cover every oblast
DISCLAIMER = "airwarn: zone alerts in the alerts.in.ua format; civil warning only."


def oblast_of(region: str) -> tuple[int | None, str]:
    """(alerts.in.ua uid or None, title) of a zone's region."""
    hit = OBLAST_UIDS.get(region) or _BY_TITLE.get(region)
    return (hit[0], hit[1]) if hit else (None, region)


def ua_time(t: float | None) -> str | None:
    """alerts.in.ua timestamp format (UTC, milliseconds, 'Z')."""
    if t is None:
        return None
    d = datetime.fromtimestamp(float(t), UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def ua_meta_time(t: float) -> str:
    """alerts.in.ua meta.last_updated_at format."""
    return datetime.fromtimestamp(float(t), UTC).strftime("%Y/%m/%d %H:%M:%S +0000")


def active_json(states: list[dict], now: float) -> dict:
    """alerts/active.json: one alert per zone under alert (pre-alerts as yellow)."""
    alerts = []
    for s in states:
        uid, title = oblast_of(s.get("region", ""))
        level = "red" if s["state"] == "alert" else "yellow"
        alerts.append(
            {
                "id": int(s.get("episode") or 0) or abs(hash(s["zone"])) % 10**9,
                "location_title": s.get("name", s["zone"]),
                "location_type": "hromada",
                "started_at": ua_time(s.get("since")),
                "finished_at": None,
                "updated_at": ua_time(s.get("updated") or s.get("since")),
                "alert_type": "air_raid",
                "alert_level": level,
                "location_uid": s["zone"],
                "location_oblast": title,
                "location_oblast_uid": uid,
                "location_raion": None,
                "notes": f"airwarn zone {s['zone']}; threat: {s.get('cls') or 'unknown'}",
                "calculated": None,
                "country": None,
                "threats": [],
            }
        )
    return {
        "alerts": alerts,
        "meta": {"last_updated_at": ua_meta_time(now), "type": "full"},
        "disclaimer": DISCLAIMER,
    }


def oblast_status(
    states: list[dict], zones_per_region: dict[str, int], *, v2: bool
) -> dict[int, str]:
    """Status character per oblast uid: whole oblast alerted, part of it, or none."""
    counts: dict[str, list[int]] = {}
    for s in states:
        c = counts.setdefault(s.get("region", ""), [0, 0])
        c[0 if s["state"] == "alert" else 1] += 1
    out: dict[int, str] = {}
    for region, n_all in zones_per_region.items():
        uid, _ = oblast_of(region)
        if uid is None:
            continue
        red, yellow = counts.get(region, [0, 0])
        if red + yellow == 0:
            ch = "N"
        elif red + yellow < n_all:
            ch = "P"
        elif v2:
            ch = "R" if red else "Y"
        else:
            ch = "A"
        out[uid] = ch
    return out


def iot_string(status: dict[int, str]) -> str:
    """The IoT status string: character ``uid`` is that location's status."""
    chars = [" "] * IOT_LEN
    for uid, ch in status.items():
        if 0 <= uid < IOT_LEN:
            chars[uid] = ch
    return "".join(chars)


def by_oblast_string(status: dict[int, str]) -> str:
    """27 characters, one per oblast in the client's order (N where not deployed)."""
    return "".join(status.get(_BY_TITLE[t][0], "N") for t in OBLAST_ORDER)


HFC_CATS = {
    # cat, title (Hebrew, as the Home Front Command publishes), instruction
    "missiles": ("1", "ירי רקטות וטילים", "היכנסו למרחב המוגן ושהו בו 10 דקות"),
    "aircraft": ("6", "חדירת כלי טיס עוין", "היכנסו מייד למרחב המוגן ושהו בו 10 דקות"),
    "early": (
        "10",
        "בדקות הקרובות צפויות להתקבל התרעות באזורך",
        "על תושבי האזורים הבאים לשפר את המיקום למיגון המיטבי בקרבתך",
    ),
}


def hfc_alert(states: list[dict], now: float) -> dict | None:
    """The Home Front Command alerts.json object, or None when nothing is active."""
    red = [s for s in states if s["state"] == "alert"]
    if red:
        missiles = any(s.get("cls") in ("ballistic", "cruise") for s in red)
        cat, title, desc = HFC_CATS["missiles" if missiles else "aircraft"]
        names = [s.get("name", s["zone"]) for s in red]
    elif states:
        cat, title, desc = HFC_CATS["early"]
        names = [s.get("name", s["zone"]) for s in states]
    else:
        return None
    return {
        "id": str(int(now * 10_000_000)),
        "cat": cat,
        "title": title,
        "data": sorted(dict.fromkeys(names)),
        "desc": desc,
    }
