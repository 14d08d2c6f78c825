"""The bulky parts of a decision, generated from sub-seeds only when a decision is rendered:
AML hits and the IP/device analysis."""

from __future__ import annotations

import math
import random
import string
from datetime import UTC, datetime

from . import config
from .facts import Facts
from .people import COUNTRIES, ISO3, Person

DATASETS = [
    ("us_ofac_sdn", "sanction"),
    ("eu_fsf", "sanction"),
    ("gb_hmt_sanctions", "sanction"),
    ("un_sc_sanctions", "sanction"),
    ("ch_seco_sanctions", "sanction"),
    ("ru_acf_bribetakers", "poi"),
    ("wd_peps", "role.pep"),
    ("everypolitician", "role.pep"),
    ("interpol_red_notices", "crime"),
    ("us_sam_exclusions", "debarment"),
    ("adverse_media", "crime.fin"),
]
POSITIONS = [
    "Member of Parliament",
    "Deputy Minister of Finance",
    "Assistant Prosecutor",
    "Board member, state-owned bank",
    "Mayor",
    "Организаторы политических репрессий",
]
NOTES = [
    "Involved in a procurement fraud case.",
    "Listed for undermining territorial integrity.",
    "Politically exposed person by family association.",
    "Subject of an Interpol notice.",
]
CRIMES = ["fraud", "money laundering", "corruption", "tax evasion", "sanctions evasion"]
ISPS = [
    "Telefonica de Espana",
    "Deutsche Telekom AG",
    "Comcast Cable",
    "China Telecom",
    "Viettel Group",
    "Orange S.A.",
    "Vodafone",
    "Rostelecom",
    "M247 Europe SRL",
]
DEVICES = [
    ("Apple", "iPhone", "Mobile Safari", "iOS", "mobile"),
    ("Samsung", "SM-S918B", "Chrome Mobile", "Android", "mobile"),
    ("Xiaomi", "Redmi Note 12", "MIUI Browser", "Android", "mobile"),
    (None, None, "Chrome", "Windows", "desktop"),
    ("Apple", "Mac", "Safari", "Mac OS X", "desktop"),
    (None, None, "Firefox", "Linux", "desktop"),
]
HIT_REVIEW_BY_AML = {
    config.APPROVED: "False Positive",
    config.IN_REVIEW: "Unreviewed",
    config.DECLINED: "Unreviewed",
}


def _hit_id(rng: random.Random) -> str:
    return "NK-" + "".join(rng.choices(string.ascii_letters + string.digits, k=22))


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _hit_name(rng: random.Random, person: Person, close: bool) -> str:
    if close:
        middle = rng.choice(["", " Alexandrovich", " Maria", " J."])
        return f"{person.last_name} {person.first_name[:60]}{middle}".strip()
    country = rng.choice(COUNTRIES)
    return f"{rng.choice(country[9])} {rng.choice(country[8][rng.randint(0, 1)])}"


def aml_hits(facts: Facts, person: Person, *, created: float, overrides: dict | None) -> list:
    """Every AML hit in one canonical form; renderers pick the fields of their shape.

    The first hit of an AML check that needs review is a close match to the person; the
    others are weaker namesakes. `overrides` holds review statuses set through the API.
    """
    rng = random.Random(facts.aml_seed)
    status = facts.statuses.get("AML")
    hits = []
    for index in range(facts.aml_hits):
        close = index == 0 and status in (config.IN_REVIEW, config.DECLINED)
        hit = _hit(rng, person, close=close, created=created)
        review = HIT_REVIEW_BY_AML.get(status, "Unreviewed")
        if status == config.DECLINED and close:
            review = "Confirmed Match"
        elif status == config.IN_REVIEW and rng.random() < 0.2:
            review = "Inconclusive"
        hit["review_status"] = (overrides or {}).get(hit["id"], review)
        hit["match"] = close and status == config.DECLINED
        hits.append(hit)
    return hits


def _hit(rng: random.Random, person: Person, *, close: bool, created: float) -> dict:
    hit_id = _hit_id(rng)
    score = round(rng.uniform(0.8, 0.99) if close else rng.uniform(0.5, 0.85), 4)
    dataset, topic = rng.choice(DATASETS)
    first_seen = created - rng.uniform(30, 3000) * 86400
    last_seen = min(created, first_seen + rng.uniform(1, 900) * 86400)
    caption = _hit_name(rng, person, close)
    country = rng.choice(COUNTRIES)[1]
    is_pep = topic == "role.pep"
    return {
        "id": hit_id,
        "url": f"https://www.opensanctions.org/entities/{hit_id}/",
        "caption": caption,
        "match": False,
        "score": score,
        "match_score": round(score * 100),
        "risk_score": rng.randint(20, 95),
        "review_status": "Unreviewed",
        "target": rng.random() < 0.8,
        "datasets": [dataset] + ([rng.choice(DATASETS)[0]] if rng.random() < 0.3 else []),
        "features": {
            "person_name_jaro_winkler": round(min(1.0, score + rng.uniform(0, 0.1)), 4),
            "person_name_phonetic_match": rng.choice([0.5, 1.0]),
        },
        "first_seen": _stamp(first_seen),
        "last_seen": _stamp(last_seen),
        "last_change": _stamp(last_seen - rng.uniform(0, 30) * 86400),
        "properties": {
            "name": [caption],
            "alias": [caption.upper()] if rng.random() < 0.5 else [],
            "notes": [rng.choice(NOTES)] if rng.random() < 0.6 else [],
            "gender": ["female" if person.gender == "F" else "male"],
            "topics": [topic],
            "position": [rng.choice(POSITIONS)] if is_pep or rng.random() < 0.3 else [],
            "birthDate": [person.date_of_birth.isoformat()] if close else [],
            "nationality": [country.lower()],
            "country": [country.lower()],
        },
        "risk_view": {
            "crimes": [rng.choice(CRIMES)] if topic.startswith("crime") else [],
            "countries": [country],
            "categories": [topic],
        },
        "score_breakdown": {
            "name_score": round(score * 100),
            "dob_score": 100 if close else rng.choice([0, 50]),
            "country_score": rng.choice([0, 50, 100]),
        },
        "pep_matches": [
            {"list_name": dataset, "position": rng.choice(POSITIONS), "country": country}
        ]
        if is_pep
        else [],
        "sanction_matches": [
            {"list_name": dataset, "program": "UKRAINE-EO13660", "listed_at": _stamp(first_seen)}
        ]
        if topic == "sanction"
        else [],
        "adverse_media_matches": [],
        "linked_entities": [],
    }


def ip_analysis(facts: Facts, person: Person) -> dict:
    rng = random.Random(facts.ip_seed)
    country = ISO3[facts.ip_country]
    lat = round(country[5][0] + rng.uniform(-1, 1), 4)
    lon = round(country[5][1] + rng.uniform(-1, 1), 4)
    vpn = "VPN_OR_TOR_DETECTED" in facts.warnings.get("IP_ANALYSIS", [])
    brand, model, browser, os_family, platform = rng.choice(DEVICES)
    ip = f"{country[6]}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"
    document = facts.document
    doc_country = ISO3.get(document.issuing_state if document else person.country)
    distance = None
    if doc_country is not None:
        km, direction = _distance(doc_country[5], (lat, lon))
        distance = {"distance": km, "direction": direction}
    return {
        "ip_address": ip,
        "ip_country": country[2],
        "ip_country_code": country[1],
        "ip_state": rng.choice(country[7]),
        "ip_city": rng.choice(country[7]),
        "isp": rng.choice(ISPS) if rng.random() < 0.7 else None,
        "organization": rng.choice(ISPS) if rng.random() < 0.3 else None,
        "latitude": lat,
        "longitude": lon,
        "is_vpn_or_tor": vpn,
        "is_data_center": vpn and rng.random() < 0.5,
        "device_brand": brand,
        "device_model": model,
        "browser_family": browser,
        "os_family": os_family,
        "platform": platform,
        "time_zone": country[3],
        "time_zone_offset": country[4],
        "document_location": (
            {"latitude": doc_country[5][0], "longitude": doc_country[5][1]} if doc_country else None
        ),
        "distance": distance,
    }


def _distance(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, str]:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    km = round(2 * 6371 * math.asin(math.sqrt(h)), 2)
    bearing = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0])) % 360
    direction = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"][int((bearing + 22.5) // 45) % 8]
    return km, direction
