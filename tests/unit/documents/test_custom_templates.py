"""Resellers' own templates: a good one is taken; broken or hostile ones (a script, a remote URL
in markup or CSS, an import, an event handler, a loop that never ends, a sandbox escape, a field
the data lacks, a syntax error) are refused with the reason, and never rendered."""

from __future__ import annotations

import pytest

from documents import custom_templates
from documents.custom_templates import check_template, render_custom, sample_data
from documents.html import RenderRefused

GOOD = (
    "<html><body><h1>{{ title }} {{ d.number }}</h1>"
    '{% for line in d.lines %}<p class="l">{{ line.description }}: {{ money(line.gross) }}</p>{% endfor %}'
    "<p>{{ d.total_in_words }}</p></body></html>"
)


def test_a_template_using_the_documents_variables_is_taken():
    assert check_template(GOOD.encode()) == GOOD


@pytest.mark.parametrize(
    "template, reason",
    [
        ("<p>ok</p>\n<script>fetch('/x')</script>", "line 2: a template may not contain scripts"),
        ('<img src="https://tracker.example/p.png">', "outside the document"),
        ('<link rel="stylesheet" href="//cdn.example/x.css">', "outside the document"),
        ('<p style="background: url(http://evil.example/x)">', "CSS may not point"),
        ("<style>@import 'x.css';</style>", "may not import"),
        ('<p onclick="x()">', "event handlers"),
        ('<iframe src="x.html"></iframe>', "embed other pages"),
        ("{% if %}", "line 1:"),
        ("{{ d.no_such_field }}", "UndefinedError"),
        ("{{ ''.__class__.__mro__ }}", "SecurityError"),
    ],
)
def test_broken_or_hostile_templates_are_refused_with_the_reason(template, reason):
    with pytest.raises(RenderRefused) as refused:
        check_template(template.encode())
    assert refused.value.field == "template" and reason in refused.value.reason


def test_a_loop_that_never_ends_is_stopped_in_a_child_process(monkeypatch):
    monkeypatch.setattr(custom_templates, "TRIAL_SECONDS", 2.0)
    endless = "{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}"
    with pytest.raises(RenderRefused) as refused:
        check_template(endless.encode())
    assert "longer than 2 s" in refused.value.reason


def test_output_that_would_flood_the_renderer_is_refused():
    flood = "{% for i in range(100000) %}{{ d.carrier.name }}{{ d.carrier.name }}{% endfor %}"
    with pytest.raises(RenderRefused) as refused:
        render_custom(flood, sample_data())
    assert "more than" in refused.value.reason


def test_too_large_or_not_utf8_is_refused():
    for raw, reason in ((b"x" * (256 * 1024 + 1), "larger than"), (b"\xff\xfe<p>", "not UTF-8")):
        with pytest.raises(RenderRefused) as refused:
            check_template(raw)
        assert reason in refused.value.reason


def test_what_people_typed_is_escaped_in_a_resellers_template_too():
    data = {**sample_data(), "customer": {"id": "0" * 32, "name": "<b>Bold</b>", "legal": {}}}
    assert "&lt;b&gt;Bold&lt;/b&gt;" in render_custom("<p>{{ d.customer.name }}</p>", data)
