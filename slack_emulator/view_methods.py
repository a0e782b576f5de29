"""views.open, views.push, views.update and views.publish, and the modal stack they drive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_emulator.arguments import MethodArgs
from slack_emulator.block_kit import MODAL_STACK_LIMIT, normalize_blocks, validate_view
from slack_emulator.errors import SlackApiFailure, invalid_arguments
from slack_emulator.records import StoredView

if TYPE_CHECKING:
    from slack_emulator.web_api import SlackEmulator

MODAL = frozenset({"modal"})
HOME = frozenset({"home"})


def checked_view(view: Any, *, allowed_types: frozenset[str]) -> dict[str, Any]:
    """A valid view payload with Slack's block normalisation applied, or the failure.

    Real Slack answers a view that fails its schema with `invalid_arguments` and the
    reasons in response_metadata.messages (not `invalid_blocks` as chat.* methods do).
    """
    errors = validate_view(view, allowed_types=allowed_types)
    if errors:
        failure = invalid_arguments(*errors)
        failure.invalid_payload = view
        raise failure
    assert isinstance(view, dict)  # validate_view refuses anything else
    stored = dict(view)
    stored["blocks"] = normalize_blocks(view.get("blocks") or [])
    return stored


def _view_argument(args: MethodArgs, *, allowed_types: frozenset[str]) -> dict[str, Any]:
    try:
        view = args.json_value("view")
    except ValueError:
        raise invalid_arguments("failed to parse JSON [json-pointer:/view]") from None
    return checked_view(view, allowed_types=allowed_types)


def _trigger_user(emulator: SlackEmulator, args: MethodArgs) -> str:
    trigger_id = args.text("trigger_id") or args.text("interactivity_pointer")
    if trigger_id is None:
        raise invalid_arguments("missing required field: trigger_id")
    return emulator.exchange_trigger(trigger_id)


def _refuse_duplicate_external_id(emulator: SlackEmulator, view: dict[str, Any]) -> None:
    external_id = view.get("external_id")
    if external_id and emulator.live_view_by_external_id(str(external_id)) is not None:
        raise SlackApiFailure("duplicate_external_id")


def _answer(emulator: SlackEmulator, view: StoredView) -> dict[str, Any]:
    return {"view": view.to_api(emulator.team, emulator.bot)}


def views_open(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    payload = _view_argument(args, allowed_types=MODAL)
    user_id = _trigger_user(emulator, args)
    _refuse_duplicate_external_id(emulator, payload)
    view = emulator.store_view(user_id, payload)
    # A new modal replaces whatever modal the user had open.
    emulator.set_modal_stack(user_id, [view])
    return _answer(emulator, view)


def views_push(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    payload = _view_argument(args, allowed_types=MODAL)
    user_id = _trigger_user(emulator, args)
    stack = emulator.open_views(user_id)
    if not stack:
        raise SlackApiFailure("not_found")
    if len(stack) >= MODAL_STACK_LIMIT:
        raise SlackApiFailure("push_limit_reached")
    _refuse_duplicate_external_id(emulator, payload)
    view = emulator.store_view(
        user_id, payload, root_view_id=stack[0].id, previous_view_id=stack[-1].id
    )
    emulator.set_modal_stack(user_id, [*stack, view])
    return _answer(emulator, view)


def views_update(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    view_id = args.text("view_id")
    external_id = args.text("external_id")
    if view_id is None and external_id is None:
        raise invalid_arguments("missing required field: view_id")
    if view_id is not None and external_id is not None:
        raise invalid_arguments("only one of view_id or external_id may be given")
    if view_id is not None:
        view = emulator.views.get(view_id)
    else:
        view = emulator.live_view_by_external_id(str(external_id))
    if view is None or not view.is_open:
        raise SlackApiFailure("not_found")
    payload = _view_argument(args, allowed_types=frozenset({view.type}))
    expected_hash = args.text("hash")
    if expected_hash is not None and expected_hash != view.hash:
        raise SlackApiFailure("hash_conflict")
    replace_view(emulator, view, payload)
    return _answer(emulator, view)


def replace_view(emulator: SlackEmulator, view: StoredView, payload: dict[str, Any]) -> None:
    """New content for an existing view: same id, new hash, input state reset."""
    if not payload.get("external_id") and view.external_id:
        payload = {**payload, "external_id": view.external_id}
    view.payload = payload
    view.hash = emulator.new_hash()
    view.state_values = {}
    view.errors = None


def views_publish(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    user_id = args.require_text("user_id")
    payload = _view_argument(args, allowed_types=HOME)
    user = emulator.users.get(user_id)
    if user is None or user.is_bot:
        raise SlackApiFailure("user_not_found")
    existing = emulator.home_view(user_id)
    expected_hash = args.text("hash")
    if existing is not None and expected_hash is not None and expected_hash != existing.hash:
        raise SlackApiFailure("hash_conflict")
    if existing is None:
        existing = emulator.store_view(user_id, payload)
        emulator.set_home_view(user_id, existing)
    else:
        replace_view(emulator, existing, payload)
    return _answer(emulator, existing)
