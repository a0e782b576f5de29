"""What Slack sends, as typed models with bounds on every field that is read.

Two readers use them. The server's gate (`read_slack_request`) validates every signed
request against them before Bolt sees it, so Bolt's own routing (which digs through the
payload with `dict.get` and `[...]`) never meets a wrong type. Listeners then validate
the same dict into the same model to read it typed (`commands.parsing`).

The models are open (`extra="allow"`): Slack adds fields, and what is not read is not
checked beyond the gate's "no NUL, no broken Unicode, not too deep". The bounds are Slack's
own documented limits (button value 2,000 characters, private_metadata 3,000, ids 255).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from commands.inbound.text import READABLE, SlackId

ShortText = Annotated[str, StringConstraints(max_length=255), READABLE]
Value = Annotated[str, StringConstraints(max_length=2000), READABLE]
InputText = Annotated[str, StringConstraints(max_length=3000), READABLE]
Metadata = Annotated[str, StringConstraints(max_length=3000), READABLE]
CommandText = Annotated[str, StringConstraints(max_length=4000), READABLE]
ResponseUrl = Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[^\s]+$")]
TriggerId = Annotated[str, StringConstraints(max_length=255, pattern=r"^[A-Za-z0-9._-]+$")]
MAX_ACTIONS = 25
MAX_BLOCKS = 100


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


# --- who and where (what Bolt's context builder reads) ----------------------------------------


class UserRef(_Open):
    id: SlackId
    team_id: SlackId | None = None
    name: ShortText | None = None
    username: ShortText | None = None


class TeamRef(_Open):
    id: SlackId | None = None
    enterprise_id: SlackId | None = None
    domain: ShortText | None = None


class IdRef(_Open):
    id: SlackId


class Authorization(_Open):
    enterprise_id: SlackId | None = None
    team_id: SlackId | None = None
    user_id: SlackId | None = None
    is_enterprise_install: bool | None = None


class Located(_Open):
    """The fields Bolt reads from any payload (and recursively from `event`, `message`,
    `previous_message`, `item`, `assistant_thread`) to learn who and where."""

    user: SlackId | UserRef | None = None
    user_id: SlackId | None = None
    team: SlackId | TeamRef | None = None
    team_id: SlackId | None = None
    enterprise: SlackId | IdRef | None = None
    enterprise_id: SlackId | None = None
    channel: SlackId | IdRef | None = None
    channel_id: SlackId | None = None
    thread_ts: ShortText | None = None
    authorizations: Annotated[list[Authorization], Field(max_length=10)] | None = None
    is_enterprise_install: bool | Literal["true", "false"] | None = None
    message: Located | None = None
    previous_message: Located | None = None
    item: Located | None = None
    assistant_thread: Located | None = None
    # Workflow functions: this app has none, and Bolt treats their presence specially.
    function_execution_id: None = None
    function_data: None = None
    bot_access_token: None = None


# --- interactions ---------------------------------------------------------------------------


class Option(_Open):
    value: Value


class ActionIn(_Open):
    action_id: ShortText
    block_id: ShortText | None = None
    type: ShortText | None = None
    value: Value | None = None
    selected_option: Option | None = None


class InputState(_Open):
    """One input's state in `state.values[block_id][action_id]`."""

    type: ShortText | None = None
    value: InputText | None = None
    selected_option: Option | None = None
    selected_conversation: SlackId | None = None
    selected_user: SlackId | None = None
    selected_channel: SlackId | None = None


StateValues = dict[ShortText, dict[ShortText, InputState]]


class State(_Open):
    values: Annotated[StateValues, Field(max_length=MAX_BLOCKS)] = Field(default_factory=dict)


class ViewIn(_Open):
    id: SlackId | None = None
    team_id: SlackId | None = None
    app_installed_team_id: SlackId | None = None
    type: ShortText | None = None
    callback_id: ShortText = ""
    private_metadata: Metadata = ""
    hash: ShortText | None = None
    state: State = Field(default_factory=State)
    blocks: Annotated[list[dict[str, Any]], Field(max_length=MAX_BLOCKS)] = Field(
        default_factory=list
    )


class ResponseUrlRef(_Open):
    response_url: ResponseUrl


class _Interaction(Located):
    user: UserRef
    team: TeamRef | None = None
    trigger_id: TriggerId | None = None
    response_url: ResponseUrl | None = None
    response_urls: Annotated[list[ResponseUrlRef], Field(max_length=10)] | None = None


class BlockActions(_Interaction):
    type: Literal["block_actions"]
    actions: Annotated[list[ActionIn], Field(min_length=1, max_length=MAX_ACTIONS)]
    state: State | None = None
    view: ViewIn | None = None


class ViewSubmission(_Interaction):
    type: Literal["view_submission"]
    view: ViewIn


class ViewClosed(_Interaction):
    type: Literal["view_closed"]
    view: ViewIn


# --- slash commands and events ----------------------------------------------------------------


class SlashCommand(_Open):
    """A slash command's form fields (all strings, as Slack posts them)."""

    command: Annotated[str, StringConstraints(pattern=r"^/[a-z0-9_-]{1,32}$")]
    text: CommandText = ""
    user_id: SlackId
    user_name: ShortText = ""
    team_id: SlackId
    team_domain: ShortText = ""
    channel_id: SlackId | None = None
    channel_name: ShortText = ""
    enterprise_id: SlackId | None = None
    is_enterprise_install: Literal["true", "false"] | None = None
    response_url: ResponseUrl | None = None
    trigger_id: TriggerId | None = None


class EventIn(Located):
    type: ShortText
    tab: ShortText | None = None
    view: ViewIn | None = None


class EventCallback(Located):
    type: Literal["event_callback"]
    event: EventIn
    event_id: ShortText | None = None


class UrlVerification(_Open):
    type: Literal["url_verification"]
    challenge: ShortText


class RateLimited(_Open):
    type: Literal["app_rate_limited"]


SlackPayload = (
    BlockActions
    | ViewSubmission
    | ViewClosed
    | SlashCommand
    | EventCallback
    | UrlVerification
    | RateLimited
)
