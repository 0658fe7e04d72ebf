"""`mlopsctl plan`: make the plan, print it in the asked form, and exit as `terraform plan -detailed-exitcode`."""

from __future__ import annotations

import pathlib
import sys
from typing import TextIO

from controller.plan import render
from controller.plan.making import plan

FORMATS = {"text": render.text, "markdown": render.markdown, "json": render.to_json}


def run(
    paths: list[pathlib.Path],
    *,
    output: str,
    kubeconfig: pathlib.Path | None,
    namespace: str | None,
    cluster: bool,
    prune: bool,
    profile: str | None,
    out: TextIO = sys.stdout,
) -> int:
    """Print the plan; 0 when nothing would change, 2 when something would, 1 when no plan could be made
    or a resource would fail (its error is in the plan)."""
    made = plan(paths, kubeconfig=kubeconfig, namespace=namespace, cluster=cluster, prune=prune, profile=profile)
    out.write(FORMATS[output](made))
    for problem in made.problems:  # also on stderr, where CI logs and editors look for errors
        print(f"mlopsctl plan: {problem}", file=sys.stderr)
    return made.exit_code
