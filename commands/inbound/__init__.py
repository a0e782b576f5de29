"""Everything from outside, checked at the edge before anything acts on it.

- `text`: NUL bytes and broken Unicode refused, control characters stripped, typed ids;
- `json_bounds`: JSON parsed only when shallow enough;
- `http_body`: bodies read with a ceiling;
- `slack_payloads`: typed, bounded models of what Slack sends;
- `slack_request`: the gate every signed request passes before Bolt;
- `refusals`: how a refused request is answered, in the form its sender sees.
"""
