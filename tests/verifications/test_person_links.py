"""Vendor data links to the person's page from the admin change page and the PDF reports."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.sandbox import session_row
from users.models import DiditUser

pytestmark = pytest.mark.django_db

VENDOR_DATA = "team/ana +1 Ünï"


@pytest.fixture
def session():
    didit_user = DiditUser.objects.create(vendor_data=VENDOR_DATA)
    row = session_row("s-linked", user=didit_user, vendor_data=VENDOR_DATA, status="Approved")
    row.save()
    return row


def pdf_links(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    links = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if "/URI" in action:
                links.append(str(action["/URI"]))
    return links


def test_the_admin_change_page_links_to_the_person(session, admin_client):
    url = reverse("admin:verifications_verificationsession_change", args=[session.pk])

    html = admin_client.get(url).content.decode()

    assert f'href="{reverse("users:user-detail", args=[VENDOR_DATA])}"' in html


@pytest.mark.parametrize(
    "report_url",
    [
        lambda: reverse("verifications:session-report", args=["s-linked"]),
        lambda: reverse("users:user-report", args=[VENDOR_DATA]),
    ],
    ids=["session-report", "user-report"],
)
def test_the_pdf_reports_link_the_vendor_data_to_the_person(session, viewer_client, report_url):
    response = viewer_client.get(report_url())

    data = b"".join(response.streaming_content) if response.streaming else response.content
    person = reverse("users:user-detail", args=[VENDOR_DATA])
    assert any(link.endswith(person) for link in pdf_links(data))
