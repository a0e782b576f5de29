"""Email rendering: a plain-text part always, an HTML part (escaped) only from an HTML template."""

from __future__ import annotations

from dataclasses import replace

from bot.templates.rendering import MessageContext, MessageRenderer, default_templates

CONTEXT = MessageContext(
    code="482913",
    contact_name="<b>Jane</b> & Co",
    company="Globex",
    agent_name="Alice",
    organisation="Acme IT",
    expiry_minutes=10,
)


def test_without_an_html_template_the_email_is_plain_text_only() -> None:
    templates = default_templates()
    rendered = MessageRenderer().render_email(templates, CONTEXT)
    assert rendered.html_body is None
    assert "482913" in rendered.text_body and rendered.text_body.startswith("Hello <b>Jane</b>")


def test_an_html_template_gives_an_escaped_html_part_and_the_text_part_stays() -> None:
    templates = replace(
        default_templates(), email_html="<p>Hello {{ contact_first_name }}: <b>{{ code }}</b></p>"
    )
    rendered = MessageRenderer().render_email(templates, CONTEXT)
    assert rendered.html_body == "<p>Hello &lt;b&gt;Jane&lt;/b&gt;: <b>482913</b></p>"
    assert "482913" in rendered.text_body and "&lt;" not in rendered.text_body
