"""The sandbox's sessions: a seeded generator and the mutable store that serves them.

A session is a compact record (ids, seeds, status, a few mutable lists); everything else is
derived on demand from its seed (see facts.py, render.py), so 100,000 sessions stay small.
"""

from __future__ import annotations

import hashlib
import random
import string
import time
import uuid
from datetime import UTC, datetime

from . import catalog, config
from .config import SandboxConfig
from .facts import Facts, build_facts, iso_datetime
from .people import Person, make_person

YEAR = 365 * 86400.0
STATUS_WEIGHTS = {
    config.APPROVED: 45,
    config.DECLINED: 14,
    config.IN_REVIEW: 12,
    config.NOT_STARTED: 5,
    config.IN_PROGRESS: 4,
    config.EXPIRED: 6,
    config.ABANDONED: 5,
    config.KYC_EXPIRED: 3,
    config.RESUBMITTED: 3,
    config.AWAITING_USER: 3,
}
SESSIONS_PER_USER = (1, 2, 3, 4, 5, 6)
SESSIONS_PER_USER_WEIGHTS = (45, 25, 13, 8, 5, 4)
SHAPES = ("v1", "v2", "v3")
SHAPE_WEIGHTS = (20, 30, 50)
NEEDS_DOCUMENT = {config.KYC_EXPIRED, config.RESUBMITTED}


class Session:
    """One verification session: identity, seeds and the state reviewers can change."""

    __slots__ = (
        "session_id", "number", "seed", "person_seed", "vendor_data", "created", "status",
        "basis", "gen_status", "shape", "workflow", "v1_features", "token", "reviews",
        "hit_reviews", "extra", "deleted", "facts_cache", "updated",
    )  # fmt: skip

    def __init__(self, **fields) -> None:
        self.reviews: list[dict] = []
        self.hit_reviews: dict[str, str] | None = None
        self.extra: dict | None = None
        self.deleted = False
        self.facts_cache: Facts | None = None
        self.v1_features: str | None = None
        self.workflow: catalog.Workflow | None = None
        self.updated: float | None = None
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def features(self) -> tuple[str, ...]:
        if self.workflow is not None:
            return self.workflow.features
        return catalog.features_of_v1(self.v1_features or "OCR + FACE")

    @property
    def workflow_id(self) -> str | None:
        return self.workflow.workflow_id if self.workflow else None


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _token(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=12))


def _vendor_data(rng: random.Random, index: int) -> str:
    roll = rng.random()
    if roll < 0.4:
        return _uuid(rng)
    if roll < 0.75:
        return f"user-{index + 1}"
    if roll < 0.9:
        return f"customer.{index + 1}+kyc@example.com"
    return f"cust_{rng.getrandbits(40):010x}"


class SessionStore:
    """All sessions, newest last; callers hold `lock` around reads that must be consistent."""

    def __init__(self, cfg: SandboxConfig, lock) -> None:
        self.cfg = cfg
        self.lock = lock
        anchor = cfg.anchor
        if anchor is not None and anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        self.anchor = anchor.timestamp() if anchor else time.time()
        self.anchor_day = datetime.fromtimestamp(self.anchor, UTC).date()
        self.rng = random.Random(cfg.seed)
        self.sessions: list[Session] = []
        self.by_id: dict[str, Session] = {}
        self.by_vendor: dict[str, list[Session]] = {}
        self.person_seeds: dict[str, int] = {}
        self.version = 0
        self._people: dict[int, Person] = {}
        self._newest_first: tuple[int, list[Session]] | None = None
        self._generate(cfg.sessions)

    # -- generation -------------------------------------------------------------------------

    def _generate(self, count: int) -> None:
        rng = self.rng
        drafts: list[Session] = []
        users = 0
        while len(drafts) < count:
            k = min(
                rng.choices(SESSIONS_PER_USER, SESSIONS_PER_USER_WEIGHTS)[0], count - len(drafts)
            )
            vendor_data = _vendor_data(rng, users)
            person_seed = rng.getrandbits(48)
            times = sorted(self.anchor - rng.random() * YEAR for _ in range(k))
            for i, created in enumerate(times):
                session = self._draft(rng, vendor_data, person_seed, created)
                self._settle(rng, session, latest=i == k - 1)
                drafts.append(session)
            users += 1
        drafts.sort(key=lambda s: s.created)
        self._cover_every_status(drafts)
        for session in drafts:
            self._add(session)

    def _draft(self, rng: random.Random, vendor_data, person_seed: int, created: float):
        status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
        shape = rng.choices(SHAPES, SHAPE_WEIGHTS)[0]
        session = Session(
            session_id=_uuid(rng),
            number=0,
            seed=rng.getrandbits(63),
            person_seed=person_seed,
            vendor_data=vendor_data,
            created=created,
            status=status,
            basis=status,
            gen_status=status,
            shape=shape,
            token=_token(rng),
        )
        if shape == "v1":
            session.v1_features = rng.choices(
                catalog.V1_FEATURE_OPTIONS, catalog.V1_FEATURE_WEIGHTS
            )[0]
        else:
            session.workflow = rng.choices(catalog.WORKFLOWS, catalog.WORKFLOW_WEIGHTS)[0]
            if status in NEEDS_DOCUMENT and "ID_VERIFICATION" not in session.workflow.features:
                session.workflow = catalog.WORKFLOWS[1]
        return session

    def _settle(self, rng: random.Random, session: Session, *, latest: bool) -> None:
        """A user has at most one unfinished session, and old unfinished ones have lapsed."""
        stale = self.anchor - session.created > 14 * 86400
        if session.status in config.NOT_RUN | {config.IN_PROGRESS} and (stale or not latest):
            lapsed = config.ABANDONED if session.status == config.IN_PROGRESS else config.EXPIRED
            self._set_generated_status(session, lapsed if rng.random() < 0.7 else config.EXPIRED)

    @staticmethod
    def _set_generated_status(session: Session, status: str) -> None:
        session.status = session.basis = session.gen_status = status
        workflow = session.workflow
        if status in NEEDS_DOCUMENT and workflow and "ID_VERIFICATION" not in workflow.features:
            session.workflow = catalog.WORKFLOWS[1]

    def _cover_every_status(self, drafts: list[Session]) -> None:
        """Small samples still show every status: repaint the newest sessions if needed."""
        if len(drafts) < len(config.STATUSES):
            return
        seen: dict[str, int] = {}
        for session in drafts:
            seen[session.status] = seen.get(session.status, 0) + 1
        latest = {s.vendor_data: s for s in drafts}
        candidates = [s for s in reversed(drafts) if latest[s.vendor_data] is s]
        candidates += [s for s in reversed(drafts) if latest[s.vendor_data] is not s]
        for status in config.STATUSES:
            if seen.get(status):
                continue
            for session in candidates:
                must_be_latest = status in config.UNFINISHED
                if seen[session.status] > 1 and (
                    latest[session.vendor_data] is session or not must_be_latest
                ):
                    seen[session.status] -= 1
                    self._set_generated_status(session, status)
                    seen[status] = 1
                    break

    def _add(self, session: Session) -> None:
        if session.updated is None:
            session.updated = session.created
        session.number = (self.sessions[-1].number + 1) if self.sessions else 1001
        self.sessions.append(session)
        self.by_id[session.session_id] = session
        if session.vendor_data is not None:
            self.by_vendor.setdefault(session.vendor_data, []).append(session)
            self.person_seeds.setdefault(session.vendor_data, session.person_seed)
        self.version += 1

    # -- reading ----------------------------------------------------------------------------

    def get(self, session_id: str) -> Session | None:
        session = self.by_id.get(session_id)
        return None if session is None or session.deleted else session

    def person(self, session: Session) -> Person:
        person = self._people.get(session.person_seed)
        if person is None:
            person = self._people[session.person_seed] = make_person(session.person_seed)
        return person

    def facts(self, session: Session) -> Facts:
        if session.facts_cache is None:
            session.facts_cache = build_facts(
                seed=session.seed,
                person=self.person(session),
                features=session.features,
                basis=session.basis,
                gen_status=session.gen_status,
                created=session.created,
                anchor=max(self.anchor, session.created),
                anchor_day=self.anchor_day,
                second_document=session.shape == "v3" and session.seed % 20 == 0,
            )
        return session.facts_cache

    def newest_first(self) -> list[Session]:
        cached = self._newest_first
        if cached is None or cached[0] != self.version:
            rows = [s for s in reversed(self.sessions) if not s.deleted]
            cached = self._newest_first = (self.version, rows)
        return cached[1]

    def reviews(self, session: Session) -> list[dict]:
        return self.facts(session).reviews + session.reviews

    def forget_derived(self, sessions: list[Session]) -> None:
        """Drop what was derived for these sessions (facts, people): memory stays flat when
        every session is rendered once, as ``offline.DecisionSource`` does."""
        for session in sessions:
            session.facts_cache = None
        self._people.clear()

    # -- writing ----------------------------------------------------------------------------

    def touch(self, session: Session) -> None:
        """Something about the session changed: its list row's ``updated_at`` moves on."""
        session.updated = max(time.time(), (session.updated or session.created) + 1e-6)
        self.version += 1

    def next_created(self) -> float:
        last = self.sessions[-1].created if self.sessions else 0.0
        return max(time.time(), last + 0.001)

    def new_session(
        self,
        *,
        vendor_data: str | None,
        shape: str,
        status: str = config.NOT_STARTED,
        workflow: catalog.Workflow | None = None,
        v1_features: str | None = None,
        person_seed: int | None = None,
        seed: int | None = None,
        basis: str | None = None,
        gen_status: str | None = None,
    ) -> Session:
        rng = self.rng
        if person_seed is None:
            person_seed = self.person_seeds.get(vendor_data) if vendor_data else None
        if person_seed is None:
            digest = hashlib.sha256(f"{self.cfg.seed}:{vendor_data}:{len(self.sessions)}".encode())
            person_seed = int.from_bytes(digest.digest()[:6], "big")
        session = Session(
            session_id=_uuid(rng),
            number=0,
            seed=rng.getrandbits(63) if seed is None else seed,
            person_seed=person_seed,
            vendor_data=vendor_data,
            created=self.next_created(),
            status=status,
            basis=basis or status,
            gen_status=gen_status or status,
            shape=shape,
            token=_token(rng),
            workflow=workflow,
            v1_features=v1_features,
        )
        self._add(session)
        return session

    def add_generated(self, count: int) -> list[Session]:
        """New sessions, as if users had just verified: half from returning users."""
        rng = self.rng
        known = list(self.by_vendor)
        added = []
        for _ in range(count):
            if known and rng.random() < 0.5:
                vendor_data = rng.choice(known)
            else:
                vendor_data = _vendor_data(rng, len(self.by_vendor))
            draft = self._draft(rng, vendor_data, rng.getrandbits(48), self.next_created())
            status = draft.status
            if status in config.UNFINISHED and self.unfinished(vendor_data) is not None:
                status = config.APPROVED
            session = self.new_session(
                vendor_data=vendor_data,
                shape=draft.shape,
                status=status,
                workflow=draft.workflow,
                v1_features=draft.v1_features,
                seed=draft.seed,
            )
            added.append(session)
        return added

    def unfinished(self, vendor_data: str | None) -> Session | None:
        """The session this user has not finished yet, if any."""
        if vendor_data is None:
            return None
        for session in reversed(self.by_vendor.get(vendor_data, [])):
            if session.status in config.UNFINISHED:
                return session
        return None

    def set_status(
        self, session: Session, new_status: str, *, comment: str | None, user: str
    ) -> dict:
        """Move a session to `new_status` and append the review that records it."""
        if session.basis in config.NOT_RUN | {config.IN_PROGRESS} and new_status in (
            config.APPROVED,
            config.DECLINED,
            config.IN_REVIEW,
        ):
            # The user finished the flow: the features ran with this outcome.
            session.basis = new_status
            session.facts_cache = None
        session.status = new_status
        review = {
            "user": user,
            "new_status": new_status,
            "comment": comment,
            "created_at": _now_iso(),
        }
        session.reviews.append(review)
        self.touch(session)
        return review

    def add_comment(self, session: Session, *, comment: str | None, user: str) -> dict:
        review = {
            "user": user,
            "new_status": session.status,
            "comment": comment,
            "created_at": _now_iso(),
        }
        session.reviews.append(review)
        self.touch(session)
        return review

    def delete(self, session: Session) -> None:
        session.deleted = True
        self.touch(session)
        if session.vendor_data is not None:
            remaining = [s for s in self.by_vendor[session.vendor_data] if s is not session]
            self.by_vendor[session.vendor_data] = remaining
        self.version += 1


def _now_iso() -> str:
    return iso_datetime(time.time())
