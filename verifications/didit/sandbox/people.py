"""Who the sandbox's users are: names, places and documents from many countries.

Everything here is a pure function of a seed, so one vendor_data is always the same person.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta

# iso3, iso2, name, time zone, UTC offset, (lat, lon), IP prefix, cities,
# first names (female, male), last names
COUNTRIES = [
    (
        "ESP",
        "ES",
        "Spain",
        "Europe/Madrid",
        "+0100",
        (40.42, -3.70),
        "83.50",
        ["Madrid", "Barcelona", "Sevilla", "València"],
        (["Carmen", "Lucía", "María José", "Begoña"], ["José", "Sergio", "Íñigo", "Álvaro"]),
        ["Ñúñez", "García", "Española Española", "Martínez-Peña", "Fernández"],
    ),
    (
        "DEU",
        "DE",
        "Germany",
        "Europe/Berlin",
        "+0100",
        (52.52, 13.40),
        "91.64",
        ["Berlin", "München", "Köln", "Düsseldorf"],
        (["Zoë", "Jürgen", "Anneliese", "Hannah"], ["Jürgen", "Lukas", "Maximilian", "Björn"]),
        ["Müller", "Schröder", "Weiß", "Großmann", "von Hohenstaufen"],
    ),
    (
        "NOR",
        "NO",
        "Norway",
        "Europe/Oslo",
        "+0100",
        (59.91, 10.75),
        "84.208",
        ["Oslo", "Bergen", "Tromsø"],
        (["Åse", "Ingrid", "Sølvi"], ["Søren", "Øystein", "Håkon"]),
        ["Ødegård", "Bjørnstad", "Aaløkken"],
    ),
    (
        "RUS",
        "RU",
        "Russia",
        "Europe/Moscow",
        "+0300",
        (55.75, 37.62),
        "95.165",
        ["Москва", "Казань", "Грозный"],
        (["Мария", "Елена", "Светлана"], ["Ахмед", "Сергей", "Дмитрий"]),
        ["Исаев", "Козлов", "Кузнецова"],
    ),
    (
        "CHN",
        "CN",
        "China",
        "Asia/Shanghai",
        "+0800",
        (31.23, 121.47),
        "117.136",
        ["上海", "北京", "广州"],
        (["梅梅", "芳", "秀英"], ["雷", "伟", "强"]),
        ["李", "韩", "王", "张"],
    ),
    (
        "VNM",
        "VN",
        "Vietnam",
        "Asia/Ho_Chi_Minh",
        "+0700",
        (21.03, 105.85),
        "113.161",
        ["Hà Nội", "Đà Nẵng", "Huế"],
        (["Thị Hương", "Thu Trang", "Ngọc Ánh"], ["Văn Đức", "Quốc Bảo", "Minh Tuấn"]),
        ["Đặng", "Nguyễn", "Trần", "Phạm"],
    ),
    (
        "FRA",
        "FR",
        "France",
        "Europe/Paris",
        "+0100",
        (48.86, 2.35),
        "90.84",
        ["Paris", "Lyon", "Besançon"],
        (["Anaïs", "Hélène", "Maëlle"], ["François", "Jérôme", "Loïc"]),
        ["Lefèvre", "Dubois", "Château-Renaud"],
    ),
    (
        "USA",
        "US",
        "United States",
        "America/New_York",
        "-0500",
        (40.71, -74.01),
        "203.0",
        ["New York", "Austin", "San Francisco"],
        (["Jane Marie", "Emily", "Ashley"], ["John", "Michael", "D'Andre"]),
        ["Doe", "Smith", "O'Neil", "Johnson-Lee"],
    ),
    (
        "GBR",
        "GB",
        "United Kingdom",
        "Europe/London",
        "+0000",
        (51.51, -0.13),
        "86.12",
        ["London", "Manchester", "Edinburgh"],
        (["Siobhán", "Olivia", "Amelia"], ["Oliver", "George", "Rhys"]),
        ["O'Connor", "Smith-Watson", "Ffrench"],
    ),
    (
        "BRA",
        "BR",
        "Brazil",
        "America/Sao_Paulo",
        "-0300",
        (-23.55, -46.63),
        "177.92",
        ["São Paulo", "Florianópolis", "Belém"],
        (["Conceição", "Letícia", "Ana Júlia"], ["João", "Antônio", "Caetano"]),
        ["da Conceição", "Gonçalves", "Araújo"],
    ),
    (
        "TUR",
        "TR",
        "Türkiye",
        "Europe/Istanbul",
        "+0300",
        (41.01, 28.98),
        "78.180",
        ["İstanbul", "İzmir", "Ankara"],
        (["Ayşe", "Gülşen", "Şule"], ["Çağrı", "İlker", "Oğuz"]),
        ["Öztürk", "Yılmaz", "Çelik"],
    ),
    (
        "POL",
        "PL",
        "Poland",
        "Europe/Warsaw",
        "+0100",
        (52.23, 21.01),
        "83.24",
        ["Warszawa", "Łódź", "Kraków"],
        (["Małgorzata", "Zofia", "Agnieszka"], ["Łukasz", "Paweł"]),
        ["Wąsowski", "Żółkiewska", "Brzęczyszczykiewicz"],
    ),
    (
        "GRC",
        "GR",
        "Greece",
        "Europe/Athens",
        "+0200",
        (37.98, 23.73),
        "94.66",
        ["Αθήνα", "Θεσσαλονίκη"],
        (["Ελένη", "Μαρία"], ["Γιώργος", "Νίκος"]),
        ["Παπαδόπουλος", "Οικονόμου"],
    ),
    (
        "JPN",
        "JP",
        "Japan",
        "Asia/Tokyo",
        "+0900",
        (35.68, 139.69),
        "126.0",
        ["東京", "大阪", "札幌"],
        (["花子", "さくら", "陽菜"], ["太郎", "健", "翔"]),
        ["佐藤", "鈴木", "高橋"],
    ),
    (
        "IND",
        "IN",
        "India",
        "Asia/Kolkata",
        "+0530",
        (19.08, 72.88),
        "49.36",
        ["Mumbai", "Bengaluru", "Chennai"],
        (["Priya", "Ananya", "Lakshmi"], ["Arjun", "Rahul"]),
        ["Sharma", "Venkataraghavan", "Iyer"],
    ),
    (
        "ARE",
        "AE",
        "United Arab Emirates",
        "Asia/Dubai",
        "+0400",
        (25.20, 55.27),
        "94.200",
        ["دبي", "أبو ظبي"],
        (["فاطمة", "مريم"], ["محمد", "عبد الله"]),
        ["علي", "الهاشمي"],
    ),
    (
        "MEX",
        "MX",
        "Mexico",
        "America/Mexico_City",
        "-0600",
        (19.43, -99.13),
        "187.190",
        ["Ciudad de México", "Guadalajara", "Mérida"],
        (["Ximena", "Guadalupe", "Renée"], ["Ángel", "Jesús", "Andrés"]),
        ["Hernández", "Peña Nieto", "Ibáñez"],
    ),
    (
        "NGA",
        "NG",
        "Nigeria",
        "Africa/Lagos",
        "+0100",
        (6.52, 3.38),
        "105.112",
        ["Lagos", "Abuja", "Ibadan"],
        (["Chiamaka", "Ngozi", "Adaeze"], ["Oluwaseun", "Chinedu"]),
        ["Okonkwo", "Adébáyọ̀", "Eze"],
    ),
    (
        "UKR",
        "UA",
        "Ukraine",
        "Europe/Kyiv",
        "+0200",
        (50.45, 30.52),
        "93.72",
        ["Київ", "Львів", "Одеса"],
        (["Олена", "Ірина", "Їржина"], ["Тарас", "Богдан", "Євген"]),
        ["Шевченко", "Ковальчук", "Ґудзь"],
    ),
    (
        "ISL",
        "IS",
        "Iceland",
        "Atlantic/Reykjavik",
        "+0000",
        (64.15, -21.94),
        "85.220",
        ["Reykjavík", "Akureyri"],
        (["Þórunn", "Guðrún"], ["Þór", "Sigurður"]),
        ["Guðmundsdóttir", "Þorsteinsson"],
    ),
    (
        "KOR",
        "KR",
        "South Korea",
        "Asia/Seoul",
        "+0900",
        (37.57, 126.98),
        "211.234",
        ["서울", "부산"],
        (["지우", "서연"], ["민준", "도윤"]),
        ["김", "이", "박"],
    ),
]
COUNTRY_WEIGHTS = [10, 8, 3, 5, 4, 3, 6, 9, 7, 5, 3, 4, 2, 3, 4, 2, 4, 3, 3, 1, 2]
ISO3 = {c[0]: c for c in COUNTRIES}
ISO2_TO_ISO3 = {c[1]: c[0] for c in COUNTRIES}
# Some languages write the family name first; the full name then does too.
FAMILY_NAME_FIRST = {"CHN", "JPN", "KOR", "VNM"}

# About one person in a hundred carries a string meant to break whatever renders it.
HOSTILE_FIRST_NAMES = [
    "<script>alert(1)</script>",
    'Robert"); DROP TABLE sessions;--',
    "O'Brien \"Bobby\" ' OR '1'='1",
    "{{ 7*7 }} ${7*7} %s %(name)s",
    "Zalgo\u0300\u0301\u0302\u0303\u0304 \u200b\u200d\u202eReversed",
    "A" * 255,
    "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff " * 6,
]

DOCUMENT_TYPES = ["Passport", "Identity Card", "Driver's License", "Residence Permit"]
DOCUMENT_TYPE_WEIGHTS = [40, 40, 12, 8]
DOCUMENT_SUBTYPES = {
    "Passport": "PASSPORT_GENERIC",
    "Identity Card": "ID_CARD_GENERIC",
    "Driver's License": "DRIVERS_LICENSE_GENERIC",
    "Residence Permit": "RESIDENCE_PERMIT_GENERIC",
}
STREETS = [
    "Calle Mayor",
    "Hauptstraße",
    "Rue de la Paix",
    "Main St",
    "Rua Augusta",
    "Nguyễn Huệ",
    "Storgata",
    "ул. Тверская",
    "Ulica Długa",
    "Baker Street",
    "Av. Reforma",
]


@dataclass(frozen=True)
class Person:
    """One human behind a vendor_data: stable across all their sessions."""

    first_name: str
    last_name: str
    full_name: str
    gender: str
    date_of_birth: date
    nationality: str
    country: str
    city: str
    address: str
    formatted_address: str
    postal_code: str
    street: str
    email: str
    phone: str
    document_seed: int
    hostile: bool


def make_person(seed: int) -> Person:
    rng = random.Random(seed)
    country = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)[0]
    iso3, iso2, country_name = country[0], country[1], country[2]
    gender = rng.choice("FM")
    first = rng.choice(country[8][0 if gender == "F" else 1])
    last = rng.choice(country[9])
    hostile = rng.random() < 0.01
    if hostile:
        first = rng.choice(HOSTILE_FIRST_NAMES)
    if iso3 in FAMILY_NAME_FIRST:
        full = f"{last}{first}" if iso3 in {"CHN", "JPN", "KOR"} else f"{last} {first}"
    else:
        full = f"{first} {last}"
    city = rng.choice(country[7])
    street = rng.choice(STREETS)
    number = rng.randint(1, 240)
    postal = f"{rng.randint(1000, 99999):05d}"
    born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 66 * 365))
    # Some people hold a second nationality; their documents may come from elsewhere.
    nationality = iso3 if rng.random() < 0.9 else rng.choice(COUNTRIES)[0]
    handle = "".join(rng.choices(string.ascii_lowercase, k=6))
    return Person(
        first_name=first,
        last_name=last,
        full_name=full,
        gender=gender,
        date_of_birth=born,
        nationality=nationality,
        country=iso3,
        city=city,
        address=f"{street} {number}, {city}",
        formatted_address=f"{street}, {number}, {postal} {city}, {country_name}",
        postal_code=postal,
        street=f"{street} {number}",
        email=f"{handle}.{rng.randint(1, 999)}@example.{iso2.lower()}",
        phone=f"+{rng.randint(1, 99)}{rng.randint(600000000, 799999999)}",
        document_seed=rng.getrandbits(48),
        hostile=hostile,
    )


def document_number(rng: random.Random, *, document_type: str, issuing_state: str) -> str:
    letters = "".join(rng.choices(string.ascii_uppercase, k=3))
    digits = "".join(rng.choices(string.digits, k=9))
    if document_type == "Passport":
        return letters[:2] + digits[:7]
    if document_type == "Identity Card":
        if issuing_state == "ESP":
            return letters + digits[:6]
        return letters[:1] + digits[:8]
    if document_type == "Driver's License":
        return f"{letters[:1]}{digits[:4]}-{digits[4:9]}"
    return f"{issuing_state[:2]}{letters[:1]}{digits[:7]}"


def personal_number(rng: random.Random, *, issuing_state: str) -> str | None:
    if issuing_state == "ESP":
        digits = rng.randint(10000000, 99999999)
        return f"{digits}{'TRWAGMYFPDXBNJZSQVHLCKE'[digits % 23]}"
    if rng.random() < 0.4:
        return "".join(rng.choices(string.digits, k=11))
    return None
