"""The layout every page shares: top bar, messages, htmx set-up, and a strict CSP."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.templatetags.static import static

pytestmark = pytest.mark.django_db

# A page every logged-in persona can open, rendered with base.html.
LOGGED_IN_PAGE = "/accounts/password_change/"


class TagCollector(HTMLParser):
    """Every start tag of a document with its attributes, and the text inside <script> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def parse(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    return collector


def without_template_comments(source: str) -> str:
    source = re.sub(r"{#.*?#}", "", source)
    return re.sub(r"{% comment %}.*?{% endcomment %}", "", source, flags=re.DOTALL)


def tags_named(page: TagCollector, name: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in page.tags if tag == name]


def test_base_page_puts_the_csrf_token_once_in_hx_headers_on_body(reviewer_client):
    response = reviewer_client.get(LOGGED_IN_PAGE)
    page = parse(response.content.decode())

    [body] = tags_named(page, "body")
    headers = json.loads(body["hx-headers"])
    assert headers == {"X-CSRFToken": response.context["csrf_token"]}
    assert headers["X-CSRFToken"]
    assert sum("hx-headers" in attrs for _, attrs in page.tags) == 1


def test_base_page_loads_htmx_2_from_our_static_files(reviewer_client):
    page = parse(reviewer_client.get(LOGGED_IN_PAGE).content.decode())

    sources = [attrs.get("src") for attrs in tags_named(page, "script")]
    assert static("django_htmx/htmx-2.min.js") in sources
    assert finders.find("django_htmx/htmx-2.min.js") is not None
    assert all(src.startswith("/static/") for src in sources)


def test_base_page_tells_htmx_not_to_inject_styles_eval_or_cache_pages(client):
    page = parse(client.get("/accounts/login/").content.decode())

    [config] = [attrs for attrs in tags_named(page, "meta") if attrs.get("name") == "htmx-config"]
    settings = json.loads(config["content"])
    handling = settings.pop("responseHandling")
    assert settings == {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "historyCacheSize": 0,
    }
    # Fragments that tell why a form was refused (400, 409, 502, 503) are swapped in.
    assert {"code": "(400|409|502|503)", "swap": True, "error": False} in handling


@pytest.mark.parametrize("persona_client", ["client", "reviewer_client"])
def test_base_page_has_no_inline_script_style_or_event_handler(request, persona_client):
    client = request.getfixturevalue(persona_client)
    url = "/accounts/login/" if persona_client == "client" else LOGGED_IN_PAGE
    page = parse(client.get(url).content.decode())

    assert all(attrs.get("src") for attrs in tags_named(page, "script"))
    assert page.script_text == []
    assert tags_named(page, "style") == []
    inline = [
        (tag, name)
        for tag, attrs in page.tags
        for name in attrs
        if name == "style" or name.startswith("on") or name.startswith("hx-on")
    ]
    assert inline == []


def test_every_template_is_free_of_inline_script_style_and_event_handlers(settings):
    offenders = []
    for path in sorted((settings.BASE_DIR / "templates").rglob("*.html")):
        page = parse(without_template_comments(path.read_text()))
        for tag, attrs in page.tags:
            if tag == "script" and not attrs.get("src"):
                offenders.append((path.name, "inline <script>"))
            if tag == "style":
                offenders.append((path.name, "<style>"))
            for name in attrs:
                if name == "style" or name.startswith("on") or name.startswith("hx-on"):
                    offenders.append((path.name, name))
    assert offenders == []


def test_pages_are_served_with_a_strict_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_top_bar_shows_the_logged_in_user_the_queue_and_a_post_logout_form(reviewer_client):
    page = parse(reviewer_client.get(LOGGED_IN_PAGE).content.decode())

    links = {attrs.get("href") for attrs in tags_named(page, "a")}
    assert "/sessions/" in links
    [logout] = [
        attrs for attrs in tags_named(page, "form") if attrs.get("action") == "/accounts/logout/"
    ]
    assert logout["method"] == "post"
    html = reviewer_client.get(LOGGED_IN_PAGE).content.decode()
    assert '<a class="topbar__user" href="/accounts/password_change/"' in html
    assert ">reviewer</a>" in html


def test_top_bar_links_to_admin_only_for_staff(reviewer_client, admin_client):
    def admin_links(client):
        page = parse(client.get(LOGGED_IN_PAGE).content.decode())
        return [a for a in tags_named(page, "a") if a.get("href") == "/admin/"]

    assert admin_links(reviewer_client) == []
    assert len(admin_links(admin_client)) == 1


def test_anonymous_top_bar_shows_only_the_product_name(client):
    page = parse(client.get("/accounts/login/").content.decode())

    assert [a["href"] for a in tags_named(page, "a") if "topbar" in a.get("class", "")] == ["/"]
    assert not [f for f in tags_named(page, "form") if f.get("action") == "/accounts/logout/"]


def test_missing_page_renders_in_the_console_layout(reviewer_client):
    response = reviewer_client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert ">reviewer</a>" in html


def test_messages_render_each_message_with_its_level():
    html = render_to_string(
        "_messages.html",
        {
            "messages": [
                Message(constants.SUCCESS, "Session approved."),
                Message(constants.ERROR, "Didit is unavailable; <nothing> changed."),
            ]
        },
    )
    page = parse(html)

    [container] = tags_named(page, "div")
    assert container["id"] == "messages"
    assert "hx-swap-oob" not in container
    paragraphs = tags_named(page, "p")
    assert [p["class"] for p in paragraphs] == [
        "message message--success",
        "message message--error",
    ]
    assert paragraphs[1]["role"] == "alert"
    assert "&lt;nothing&gt;" in html


def test_messages_can_be_sent_as_an_htmx_out_of_band_swap():
    html = render_to_string("_messages.html", {"messages": [], "oob": True})

    [container] = tags_named(parse(html), "div")
    assert container == {
        "id": "messages",
        "class": "messages",
        "aria-live": "polite",
        "hx-swap-oob": "true",
    }
