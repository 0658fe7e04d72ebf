"""IMPORT-REPORT.md: what was imported, renamed and left out, and why (also printed at the end)."""

from __future__ import annotations

from controller.importing.assets import Asset, Skipped


def render(
    *, workspace: str, namespace: str, assets: list[Asset], skipped: list[Skipped], renamed: list[str], filtered: int
) -> str:
    lines = [f"# Import of Workspace {namespace}/{workspace}", ""]
    lines += [
        f"{len(assets)} imported, {len(skipped)} not imported"
        + (f", {filtered} left out by --kind or --filter." if filtered else "."),
        "",
        "Nothing was written to Databricks or MLflow. Applying the manifests adopts the assets: see docs/import.md "
        "for the writes adoption makes.",
        "",
    ]
    if skipped:
        lines += ["## Not imported", "", "| kind | asset | why |", "| --- | --- | --- |"]
        lines += [f"| {s.kind.kind} | {_cell(s.external)} | {_cell('; '.join(s.reasons))} |" for s in skipped]
        lines.append("")
    if assets:
        lines += ["## Imported", "", "| kind | name | from | file |", "| --- | --- | --- | --- |"]
        lines += [f"| {a.kind.kind} | {a.name} | {_cell(a.external)} | {a.file_name} |" for a in assets]
        lines.append("")
    if renamed:
        lines += ["## Renamed (names shared after conversion)", ""]
        lines += [f"- {line}" for line in renamed]
        lines.append("")
    noted = [a for a in assets if a.comments]
    if noted:
        lines += ["## Notes (also in the manifests)", ""]
        lines += [f"- {a.kind.kind} {a.name}: {comment}" for a in noted for comment in a.comments]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
