"""App Home (recent verifications, the policy) and the admins' Settings and templates modals."""

from __future__ import annotations

from commands.home import settings, supervision, templates
from commands.home.listeners import handle_home_opened
from commands.ids import ActionId, CallbackId
from commands.routing import Routes

ROUTES = Routes(
    actions={
        ActionId.EDIT_TEMPLATES.value: templates.handle_open_templates,
        ActionId.TEMPLATES_PREVIEW.value: templates.handle_template_action,
        ActionId.TEMPLATES_TEST_SMS.value: templates.handle_template_action,
        ActionId.TEMPLATES_TEST_EMAIL.value: templates.handle_template_action,
        ActionId.TEMPLATES_RESET.value: templates.handle_template_action,
        ActionId.OPEN_SETTINGS.value: settings.handle_open_settings,
        ActionId.FIGURES_WINDOW.value: supervision.handle_figures_window,
        ActionId.DOWNLOAD_AUDIT.value: supervision.handle_download_audit,
    },
    views={
        CallbackId.EDIT_TEMPLATES.value: templates.handle_submit_templates,
        CallbackId.SETTINGS.value: settings.handle_submit_settings,
    },
    events={"app_home_opened": handle_home_opened},
)

__all__ = ["ROUTES"]
