"""A plan as people read it: text for a terminal (like `terraform plan`), Markdown for a pull-request comment."""

from __future__ import annotations

import json

from controller.plan.result import ADOPT, CREATE, DELETE, ERROR, NOTHING, UPDATE, Plan, ResourcePlan

_VERBS = {
    CREATE: "will be created",
    ADOPT: "will be adopted",
    UPDATE: "will be updated",
    DELETE: "will be deleted",
    NOTHING: "no changes",
    ERROR: "cannot be applied",
}
_SIGNS = {CREATE: "+", ADOPT: "<", UPDATE: "~", DELETE: "-", NOTHING: " ", ERROR: "!"}


def text(plan: Plan) -> str:
    """Every resource with its action and details, then the summary line."""
    if plan.problems:
        return "".join(f"error: {problem}\n" for problem in plan.problems) + "No plan: nothing was read or written.\n"
    lines: list[str] = []
    for resource in plan.resources:
        lines.append(f"{_SIGNS[resource.action]} {resource.ref} ({resource.external}): {_verb(resource)}")
        lines += [f"    {line}" for line in _details(resource)]
    lines += ["", plan.summary()]
    return "\n".join(lines) + "\n"


def markdown(plan: Plan) -> str:
    """A pull-request comment: the summary, a table of what changes, and the details of each change."""
    out = ["### mlopsctl plan", ""]
    if plan.problems:
        out += ["**No plan could be made:**", ""] + [f"- {_inline(problem)}" for problem in plan.problems]
        return "\n".join(out) + "\n"
    out += [f"**{plan.summary()}**", ""]
    if plan.resources:
        out += ["| | Resource | External object | Action |", "| --- | --- | --- | --- |"]
        for r in plan.resources:
            cells = [_SIGNS[r.action].strip() or "·", _cell(r.ref), _cell(r.external), _verb(r)]
            out.append("| " + " | ".join(cells) + " |")
    for r in plan.resources:
        details = _details(r)
        if r.action == NOTHING and r.waiting is None:
            continue
        out += ["", f"<details><summary>{_html(r.ref)}: {_verb(r)}</summary>", "", "```"]
        out += [line.replace("```", "'''") for line in details]
        out += ["```", "", "</details>"]
    return "\n".join(out) + "\n"


def to_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2) + "\n"


def _verb(resource: ResourcePlan) -> str:
    return _VERBS[resource.action] + ("; then waits" if resource.waiting is not None else "")


def _details(resource: ResourcePlan) -> list[str]:
    lines = [f"~ {change}" for change in resource.changes]
    lines += [f"call {write}" for write in resource.writes]
    if resource.action not in (CREATE, NOTHING):  # a created object's notes name ids that do not exist yet
        shown = [n for n in resource.notes if n.reason != "DriftDetected" and n != resource.error]
        lines += [str(note) for note in shown]
    if resource.waiting is not None:
        lines.append(f"then waits: {resource.waiting}")
    if resource.error is not None:
        lines.append(f"error: {resource.error}")
    return lines


def _cell(value: str) -> str:
    return "`" + value.replace("|", "\\|").replace("`", "'") + "`"


def _inline(value: str) -> str:
    return value.replace("\n", " ")


def _html(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
