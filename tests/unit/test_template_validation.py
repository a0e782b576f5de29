"""The template allowlist, the validator's per-field errors and SMS segment counting."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from bot.templates.rendering import (
    MessageContext,
    MessageRenderer,
    MessageTemplates,
    TemplateField,
    default_templates,
    message_environment,
)
from bot.templates.rules import TemplateRefused
from bot.templates.validation import check_templates
from providers.sms.segments import count_segments

CONTEXT = MessageContext(
    code="123456",
    contact_name="Jane <b>Doe</b>",
    company="Globex & Co",
    agent_name="Alice",
    organisation="Acme IT",
    expiry_minutes=10,
)
ESCAPES = {
    "mro": "{{ ''.__class__.__mro__ }} {{ code }}",
    "attr_filter": "{{ code|attr('__class__') }} {{ code }}",
    "format": "{{ '{0.__class__}'.format(code) }} {{ code }}",
    "range": "{% for i in range(10**9) %}x{% endfor %}{{ code }}",
    "power": "{{ 10**10**10 }} {{ code }}",
    "repeat": "{{ code * 1000000000 }}",
    "item": "{{ company['__class__'] }} {{ code }}",
    "globals": "{{ self.__init__.__globals__ }} {{ code }}",
    "cycler": "{{ cycler.__init__.__globals__.os }} {{ code }}",
    "set": "{% set x = code %}{{ x }}",
    "include": "{% include 'sms.txt.j2' %}{{ code }}",
    "macro": "{% macro m() %}{{ code }}{% endmacro %}{{ code }}",
    # Chained, each `replace('', ...)` multiplies the length: memory exhaustion.
    "replace": "{{ company" + "|replace('', 'xxxxxxxxxx')" * 30 + " }}{{ code }}",
}


def check(**fields: str | None) -> dict[TemplateField, str]:
    base = default_templates()
    templates = MessageTemplates(
        sms=fields.get("sms", base.sms) or "",
        email_subject=fields.get("email_subject", base.email_subject) or "",
        email_body=fields.get("email_body", base.email_body) or "",
        email_html=fields.get("email_html"),
    )
    result = check_templates(
        templates,
        renderer=MessageRenderer(),
        organisation="Acme IT",
        agent_name="Alice",
        expiry_minutes=10,
    )
    assert (result.preview is None) == bool(result.errors)
    return result.errors


def test_shipped_templates_pass_and_preview_uses_sample_data() -> None:
    templates = default_templates()
    result = check_templates(
        templates,
        renderer=MessageRenderer(),
        organisation="Acme IT",
        agent_name="Alice",
        expiry_minutes=10,
    )
    assert result.errors == {}
    assert result.preview is not None
    assert "482913" in result.preview.sms and "Acme IT" in result.preview.sms
    assert result.preview.sms_size.encoding == "GSM-7"
    assert result.preview.sms_size.segments == 1
    assert result.preview.email.subject == "Your Acme IT verification code: 482913"


def test_syntax_error_names_its_line() -> None:
    errors = check(email_body="Hello\n\nYour code: {{ code }\n")
    assert list(errors) == [TemplateField.EMAIL_BODY]
    assert errors[TemplateField.EMAIL_BODY].startswith("Line 3: template syntax error")


def test_unknown_variable_lists_the_available_ones() -> None:
    errors = check(sms="{{ code }} for {{ customer }}")
    assert "unknown variable `customer`" in errors[TemplateField.SMS]
    assert "contact_first_name" in errors[TemplateField.SMS]


@pytest.mark.parametrize("field", ["sms", "email_body", "email_html"])
def test_code_is_required_in_bodies_but_not_the_subject(field: str) -> None:
    errors = check(**{field: "Hello {{ contact_first_name }}"})
    assert "`{{ code }}` is missing" in errors[TemplateField(field)]
    assert check(email_subject="Your verification code") == {}


def test_code_hidden_in_a_condition_or_altered_by_a_filter_is_refused() -> None:
    hidden = check(sms="{% if company == 'x' %}{{ code }}{% endif %} hi")
    assert "outside any {% if %}" in hidden[TemplateField.SMS]
    truncated = check(sms="{{ code|truncate(3) }}")
    assert "unchanged" in truncated[TemplateField.SMS]


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_sandbox_escapes_are_refused_at_validation_and_never_render(name: str) -> None:
    errors = check(sms=ESCAPES[name])
    assert list(errors) == [TemplateField.SMS]
    assert errors[TemplateField.SMS].startswith("Line 1: ")
    with pytest.raises(TemplateRefused):
        MessageRenderer().render_text(ESCAPES[name], CONTEXT)


def test_allowed_constructs_render() -> None:
    source = (
        "{% if company %}{{ company|upper }}{% else %}you{% endif %}: "
        "{{ contact_first_name ~ '!' }} {{ code }}"
    )
    assert check(sms=source) == {}
    assert MessageRenderer().render_text(source, CONTEXT) == "GLOBEX & CO: Jane! 123456"


def test_sms_is_not_html_escaped_and_html_body_is() -> None:
    renderer = MessageRenderer()
    sms = renderer.render_text("{{ contact_name }} / {{ company }} {{ code }}", CONTEXT)
    assert sms == "Jane <b>Doe</b> / Globex & Co 123456"
    html = renderer.render_html("<p>{{ contact_name }} {{ code }}</p>", CONTEXT)
    assert html == "<p>Jane &lt;b&gt;Doe&lt;/b&gt; 123456</p>"


def test_sms_over_three_segments_is_refused_with_the_count() -> None:
    errors = check(sms="{{ code }} " + "x" * 470)
    assert "Too long for SMS" in errors[TemplateField.SMS]
    assert "4 segments (GSM-7" in errors[TemplateField.SMS]
    # The same length in plain GSM-7 minus one segment's worth passes.
    assert check(sms="{{ code }} " + "x" * 300) == {}


def test_a_non_gsm_character_is_named_when_it_costs_segments() -> None:
    errors = check(sms="{{ code }} It’s " + "y" * 200)
    assert "UCS-2" in errors[TemplateField.SMS] and "'’'" in errors[TemplateField.SMS]


def test_required_fields_and_optional_html() -> None:
    errors = check(sms="", email_subject="  ")
    assert errors == {
        TemplateField.SMS: "This template is required.",
        TemplateField.EMAIL_SUBJECT: "This template is required.",
    }
    assert check(email_html="") == {}


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("é" * 160, "GSM-7", 160, 1),  # é is in the basic GSM-7 set
        ("ç" * 70, "UCS-2", 70, 1),  # lower-case ç is not
        ("ç" * 71, "UCS-2", 71, 2),
        ("ç" * 134, "UCS-2", 134, 2),
        ("ç" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
    ],
)
def test_segment_counting(text: str, encoding: str, units: int, segments: int) -> None:
    size = count_segments(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


@pytest.mark.parametrize(
    "source",
    [
        "{{ '{0.__class__}'.format(code) }}",
        "{{ code|attr('__class__') }}",
        "{{ range(10) }}",
        "{{ ''.__class__.__mro__ }}",
    ],
)
def test_the_sandbox_underneath_refuses_even_without_the_allowlist(source: str) -> None:
    # Defence in depth: compiled straight in the environment, skipping the allowlist.
    template = message_environment(html=False).from_string(source)
    with pytest.raises(SecurityError):
        template.render(code="123456")


@pytest.mark.parametrize(
    "source",
    [
        "{% if code %}" * 120 + "{{ code }}" + "{% endif %}" * 120,
        "{{ code }}{{ " + "(" * 400 + "code" + ")" * 400 + " }}",
        "{{ code }}{% if " + " and ".join(["code"] * 200) + " %}x{% endif %}",
    ],
)
def test_deep_nesting_is_refused_not_a_crash(source: str) -> None:
    errors = check(email_body=source)
    assert "nested too deeply" in errors[TemplateField.EMAIL_BODY]
