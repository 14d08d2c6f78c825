"""One function per Didit endpoint: (sandbox, request) -> Response.

Each reads or changes the store under the sandbox lock; webhooks go out after the change.
"""

from __future__ import annotations

import secrets
import time

from . import catalog, config, queries, render
from .auth import read_jwt
from .data import Session
from .details import aml_hits
from .facts import iso_datetime
from .report import session_report
from .wire import HttpError, Request, Response, json_response, not_found

MAX_COMMENT = 10_000
NEW_STATUSES = {
    "v1": ("Approved", "Declined"),
    "v2": ("Approved", "Declined"),
    "v3": ("Approved", "Declined", "Resubmitted"),
}


def _session(app, request: Request) -> Session:
    session = app.store.get(request.params.get("sid", ""))
    if session is None:
        raise HttpError(404, {"detail": "Not found."})
    return session


def _comment(data: dict) -> str | None:
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise HttpError(400, {"comment": ["Not a valid string."]})
    if comment is not None and len(comment) > MAX_COMMENT:
        raise HttpError(
            400, {"comment": [f"Ensure this field has no more than {MAX_COMMENT} characters."]}
        )
    return comment


def _object(data: dict, name: str) -> dict | None:
    value = data.get(name)
    if value is not None and not isinstance(value, dict):
        raise HttpError(
            400, {name: [f'Expected a dictionary of items but got type "{type(value).__name__}".']}
        )
    return value


def _page(items_count: int, request: Request, app) -> tuple[int, int, dict]:
    try:
        start, stop, following, previous = queries.paginate(
            items_count, request.query, url=app.base_url + request.path
        )
    except queries.QueryError as error:
        raise HttpError(error.status, error.body) from None
    return start, stop, {"count": items_count, "next": following, "previous": previous}


# -- sessions --------------------------------------------------------------------------------


def create(app, request: Request) -> Response:
    data = request.json()
    vendor_data = data.get("vendor_data")
    if vendor_data is not None and not isinstance(vendor_data, str):
        raise HttpError(400, {"vendor_data": ["Not a valid string."]})
    workflow = None
    v1_features = None
    if request.version == "v1":
        v1_features = data.get("features") or "OCR + FACE"
        if v1_features not in catalog.V1_FEATURE_OPTIONS:
            raise HttpError(400, {"features": [f'"{v1_features}" is not a valid choice.']})
    else:
        workflow_id = data.get("workflow_id")
        if not workflow_id:
            raise HttpError(400, {"workflow_id": ["This field is required."]})
        workflow = catalog.WORKFLOWS_BY_ID.get(str(workflow_id)) or catalog.Workflow(
            str(workflow_id), "Custom workflow", 1, catalog.WORKFLOWS[0].features
        )
    extra = {
        "metadata": _object(data, "metadata"),
        "callback": data.get("callback"),
        "contact_details": _object(data, "contact_details"),
        "expected_details": _object(data, "expected_details"),
    }
    with app.lock:
        session = app.store.unfinished(vendor_data)
        if session is None:
            session = app.store.new_session(
                vendor_data=vendor_data,
                shape=request.version,
                workflow=workflow,
                v1_features=v1_features,
            )
            session.extra = extra
        body = _created_body(app, session, request.version)
    return json_response(201, body)


def _created_body(app, session: Session, version: str) -> dict:
    ctx = app.context(session)
    more = render.extras(ctx)
    body = {
        "session_id": session.session_id,
        "session_number": session.number,
        "session_token": session.token,
        "url": f"{render.VERIFY_URL}/session/{session.token}",
        "vendor_data": session.vendor_data,
        "status": session.status,
        "callback": more["callback"],
    }
    if version == "v1":
        body["features"] = session.v1_features or catalog.v1_option_of(session.features)
        return body
    body["metadata"] = more["metadata"]
    body["workflow_id"] = session.workflow_id
    if version == "v3":
        body["workflow_version"] = session.workflow.version if session.workflow else None
    return body


def decision(app, request: Request) -> Response:
    with app.lock:
        session = _session(app, request)
        shape = request.version
        if shape == "v3" and app.cfg.decision_shape == "native":
            shape = session.shape
        body = render.decision(app.context(session), shape)
    return json_response(200, body)


def update_status(app, request: Request) -> Response:
    data = request.json()
    new_status = data.get("new_status")
    if not new_status:
        raise HttpError(400, {"new_status": ["This field is required."]})
    if new_status not in NEW_STATUSES[request.version]:
        raise HttpError(400, {"new_status": [f'"{new_status}" is not a valid choice.']})
    comment = _comment(data)
    with app.lock:
        session = _session(app, request)
        if session.status not in config.REVIEWABLE:
            raise HttpError(
                400,
                {"detail": f"Cannot change the status of a session in status '{session.status}'."},
            )
        if new_status == config.RESUBMITTED and data.get("nodes_to_resubmit") is not None:
            _check_nodes(app, session, data["nodes_to_resubmit"])
        app.store.set_status(session, new_status, comment=comment, user=request.credential.user)
        app.notify(session)
    return json_response(200, {"session_id": session.session_id})


def _check_nodes(app, session: Session, nodes: object) -> None:
    """``nodes_to_resubmit``: ``[{"node_id", "feature"}]``, each naming a step of the session."""
    known = {
        item.get("node_id")
        for key, items in render.v3_decision(app.context(session)).items()
        if key.endswith(("s", "es")) and isinstance(items, list)
        for item in items
        if isinstance(item, dict)
    }
    if not isinstance(nodes, list):
        raise HttpError(400, {"nodes_to_resubmit": ["Expected a list of items."]})
    for node in nodes:
        if not isinstance(node, dict) or not all(
            isinstance(node.get(key), str) and node.get(key) for key in ("node_id", "feature")
        ):
            raise HttpError(
                400, {"nodes_to_resubmit": ["Each item needs a node_id and a feature."]}
            )
        if node["node_id"] not in known:
            raise HttpError(400, {"nodes_to_resubmit": [f'Unknown node_id "{node["node_id"]}".']})


def pdf(app, request: Request) -> Response:
    with app.lock:
        session = _session(app, request)
        if session.status not in config.REPORTABLE:
            raise HttpError(
                403,
                {
                    "detail": "A PDF report is only available for sessions that "
                    "are Approved, Declined, In Review or Kyc Expired."
                },
            )
        body = session_report(app.context(session))
    return Response(
        200,
        body,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f"attachment; filename=session_{session.session_id}.pdf",
        },
    )


def delete(app, request: Request) -> Response:
    with app.lock:
        app.store.delete(_session(app, request))
    return Response(204)


def sessions(app, request: Request) -> Response:
    with app.lock:
        try:
            rows = queries.filter_sessions(app.store, request.query)
        except queries.QueryError as error:
            raise HttpError(error.status, error.body) from None
        start, stop, page = _page(len(rows), request, app)
        page["results"] = [render.list_row(app.context(s)) for s in rows[start:stop]]
    return json_response(200, page)


def reviews(app, request: Request) -> Response:
    with app.lock:
        session = _session(app, request)
        items = app.store.reviews(session)
        start, stop, page = _page(len(items), request, app)
        page["results"] = items[start:stop]
    return json_response(200, page)


def add_review(app, request: Request) -> Response:
    data = request.json()
    comment = _comment(data)
    new_status = data.get("new_status")
    if new_status is not None and new_status not in NEW_STATUSES["v3"] + ("In Review",):
        raise HttpError(400, {"new_status": [f'"{new_status}" is not a valid choice.']})
    with app.lock:
        session = _session(app, request)
        user = request.credential.user
        if new_status and new_status != session.status:
            if session.status not in config.REVIEWABLE:
                raise HttpError(
                    400,
                    {
                        "detail": f"Cannot change the status of a session in "
                        f"status '{session.status}'."
                    },
                )
            review = app.store.set_status(session, new_status, comment=comment, user=user)
            app.notify(session)
        else:
            review = app.store.add_comment(session, comment=comment, user=user)
    return json_response(201, review)


# -- users -----------------------------------------------------------------------------------


def users(app, request: Request) -> Response:
    with app.lock:
        names = queries.users_newest_first(app.store)
        start, stop, page = _page(len(names), request, app)
        page["results"] = [queries.user_entity(app.store, name) for name in names[start:stop]]
    return json_response(200, page)


def user(app, request: Request) -> Response:
    with app.lock:
        entity = queries.user_entity(app.store, request.params["vendor_data"])
    return json_response(200, entity) if entity else not_found()


# -- sharing and AML -------------------------------------------------------------------------


def share(app, request: Request) -> Response:
    data = request.json()
    ttl = data.get("ttl_in_seconds") or 3600
    if not isinstance(ttl, int) or ttl <= 0:
        raise HttpError(400, {"ttl_in_seconds": ["A valid positive integer is required."]})
    with app.lock:
        session = _session(app, request)
        if session.status not in config.REPORTABLE:
            raise HttpError(400, {"detail": "Only finished sessions can be shared."})
    now = int(time.time())
    payload = {
        "session_id": session.session_id,
        "jti": secrets.token_hex(8),
        "iat": now,
        "exp": now + ttl,
        "for_application_id": data.get("for_application_id"),
    }
    return json_response(200, {"share_token": app.share_token(payload)})


def import_shared(app, request: Request) -> Response:
    data = request.json()
    token = data.get("share_token")
    if not token or not isinstance(token, str):
        raise HttpError(400, {"share_token": ["This field is required."]})
    claims = read_jwt(token, app.secret)
    if claims is None or "jti" not in claims:
        raise HttpError(403, {"detail": "Invalid share token."})
    if claims["exp"] < time.time():
        raise HttpError(403, {"detail": "The share token has expired."})
    with app.lock:
        if claims["jti"] in app.used_share_jtis:
            raise HttpError(403, {"detail": "This share token has already been used."})
        source = app.store.get(claims["session_id"])
        if source is None:
            raise HttpError(404, {"detail": "Not found."})
        app.used_share_jtis.add(claims["jti"])
        workflow = source.workflow
        if data.get("workflow_id"):
            workflow = catalog.WORKFLOWS_BY_ID.get(data["workflow_id"]) or catalog.Workflow(
                str(data["workflow_id"]), "Custom workflow", 1, source.features
            )
        status = source.status if data.get("trust_review") else config.IN_REVIEW
        session = app.store.new_session(
            vendor_data=data.get("vendor_data") or source.vendor_data,
            shape="v3",
            status=status,
            workflow=workflow,
            v1_features=source.v1_features,
            person_seed=source.person_seed,
            seed=source.seed,
            basis=source.basis,
            gen_status=config.NOT_STARTED,
        )
        app.notify(session)
        body = {
            "session_id": session.session_id,
            "session_number": session.number,
            "session_token": session.token,
            "url": f"{render.VERIFY_URL}/session/{session.token}",
            "status": session.status,
            "workflow_id": session.workflow_id,
            "vendor_data": session.vendor_data,
            "created_at": iso_datetime(session.created),
            "imported_from": source.session_id,
        }
    return json_response(201, body)


def aml_hit(app, request: Request) -> Response:
    """One hit (``{hit_id, review_status, comment}``) or several: the bulk body is not
    documented, so both endpoints take the single body, ``{"hits": [single bodies]}`` (a
    top-level ``review_status``/``comment`` applying to items without one) and
    ``{"hit_ids": [...], "review_status", "comment"}``. All or nothing."""
    data = request.json()
    app.record_aml_hit_request(request.path, data)
    if "hits" in data or "hit_ids" in data:
        changes = _bulk_hit_changes(data)
    else:
        changes = [(data.get("hit_id"), data.get("review_status"))]
    if not changes:
        raise HttpError(400, {"hits": ["This list may not be empty."]})
    for hit_id, review_status in changes:
        if not hit_id or not isinstance(hit_id, str):
            raise HttpError(400, {"hit_id": ["This field is required."]})
        if review_status not in config.AML_REVIEW_STATUSES:
            raise HttpError(400, {"review_status": [f'"{review_status}" is not a valid choice.']})
    _comment(data)
    for item in data.get("hits") or []:
        if isinstance(item, dict):
            _comment(item)
    with app.lock:
        session = _session(app, request)
        ctx = app.context(session)
        known = {
            hit["id"]
            for hit in aml_hits(ctx.facts, ctx.person, created=session.created, overrides=None)
        }
        missing = [hit_id for hit_id, _ in changes if hit_id not in known]
        if missing:
            raise HttpError(404, {"detail": "AML hit not found."})
        session.hit_reviews = dict(session.hit_reviews or {})
        session.hit_reviews.update(dict(changes))
        app.store.touch(session)
        app.notify(session, webhook_type="data.updated")
    if len(changes) == 1 and "hit_id" in data:
        return json_response(
            200,
            {
                "session_id": session.session_id,
                "hit_id": changes[0][0],
                "review_status": changes[0][1],
            },
        )
    return json_response(200, {"session_id": session.session_id, "updated": len(changes)})


def _bulk_hit_changes(data: dict) -> list[tuple[str, str]]:
    if isinstance(data.get("hits"), list):
        if not all(isinstance(item, dict) for item in data["hits"]):
            raise HttpError(400, {"hits": ["Expected a list of items."]})
        return [
            (item.get("hit_id"), item.get("review_status", data.get("review_status")))
            for item in data["hits"]
        ]
    if isinstance(data.get("hit_ids"), list):
        return [(hit_id, data.get("review_status")) for hit_id in data["hit_ids"]]
    raise HttpError(400, {"hits": ["Expected a list of items."]})


def token(app, request: Request) -> Response:
    form = request.json()
    body = app.auth.issue_token(request.headers.get("Authorization"), form.get("grant_type"))
    return json_response(200, body, {"Cache-Control": "no-store"})
