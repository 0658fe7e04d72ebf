"""`mlopsctl rollout status|promote|abort|retry NAME`: read a ServingEndpoint's rollout, or ask the controller to act.

An action is the `mlops.gitops.dev/rollout-action` annotation set to `<action>:<nonce>` by a JSON merge
patch; the nonce is new each time, so the same action can be asked again. The command then waits until
the controller records the value in `status.rollout.lastAction` and prints where the rollout stands.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from kubernetes.client.exceptions import ApiException

from controller.api.crd import GROUP, VERSION
from controller.kinds.servingendpoint.model import DEFINITION
from controller.kinds.servingendpoint.rollout_model import ROLLOUT_ACTION
from controller.rollout_cli import render
from controller.user_cluster import REQUEST_TIMEOUT_SECONDS, ClusterError, UserCluster, refusals

FINE, NEEDS_A_PERSON, ERROR = 0, 1, 2
"""Exit codes: nothing to do (rolling, complete or no rollout); paused, aborted or an action not taken; an error."""
ACTIONS = ("promote", "abort", "retry")
ACTS_ON = {
    "promote": ("Progressing", "Paused", "Aborted"),
    "abort": ("Progressing", "Paused"),
    "retry": ("Paused", "Aborted"),
}
"""The phases in which the controller does something for each action; elsewhere the action is moot."""
POLL_SECONDS = 1.0
MERGE_PATCH = "application/merge-patch+json"


class Endpoints(UserCluster):
    """ServingEndpoints through the Kubernetes API, as the kubeconfig (or the pod's service account) allows."""

    def get(self, namespace: str, name: str) -> Mapping[str, Any]:
        return self._call(
            "read",
            namespace,
            name,
            lambda: self.objects.get_namespaced_custom_object(
                GROUP, VERSION, namespace, DEFINITION.plural, name, _request_timeout=REQUEST_TIMEOUT_SECONDS
            ),
        )

    def annotate(self, namespace: str, name: str, key: str, value: str) -> None:
        patch = {"metadata": {"annotations": {key: value}}}
        self._call(
            "annotate",
            namespace,
            name,
            lambda: self.objects.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                DEFINITION.plural,
                name,
                patch,
                _content_type=MERGE_PATCH,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            ),
        )

    @staticmethod
    def _call(verb: str, namespace: str, name: str, call: Callable[[], Any]) -> Mapping[str, Any]:
        what = f"{DEFINITION.kind} {name} in namespace {namespace}"
        with refusals(f"{verb} {what}"):
            try:
                return dict(call())
            except ApiException as exc:
                if exc.status == 404:
                    raise ClusterError(f"{what} not found") from exc
                raise


def status(name: str, *, namespace: str | None, kubeconfig: Path | None, watch: bool, out: TextIO = sys.stdout) -> int:
    """Print the rollout; with `watch`, again at every change until it completes, pauses or aborts."""
    try:
        endpoints = Endpoints(kubeconfig)
        namespace = namespace or endpoints.default_namespace()
        shown = ""
        while True:
            v = render.view(endpoints.get(namespace, name))
            page = render.text(v, now=time.time())
            if page != shown:
                out.write(("\n" if shown else "") + page)
                out.flush()
                shown = page
            if not (watch and _rolling(v)):
                return _exit_code(v)
            time.sleep(POLL_SECONDS)
    except ClusterError as exc:
        print(f"mlopsctl rollout: {exc}", file=sys.stderr)
        return ERROR


def act(
    action: str,
    name: str,
    *,
    namespace: str | None,
    kubeconfig: Path | None,
    wait_seconds: float,
    out: TextIO = sys.stdout,
) -> int:
    """Set the rollout-action annotation to `<action>:<nonce>` and wait for the controller to act on it."""
    try:
        endpoints = Endpoints(kubeconfig)
        namespace = namespace or endpoints.default_namespace()
        refusal = moot(action, render.view(endpoints.get(namespace, name)))
        if refusal:
            print(f"mlopsctl rollout: {action} {name}: {refusal}; nothing sent", file=sys.stderr)
            return NEEDS_A_PERSON
        value = f"{action}:{secrets.token_hex(4)}"
        endpoints.annotate(namespace, name, ROLLOUT_ACTION, value)
        out.write(f"{DEFINITION.kind} {namespace}/{name}: set {ROLLOUT_ACTION}={value}\n")
        if wait_seconds <= 0:
            return FINE
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            v = render.view(endpoints.get(namespace, name))
            if v.rollout is not None and v.rollout.last_action == value:
                out.write("\n" + render.text(v, now=time.time()))
                return _exit_code(v)
            time.sleep(POLL_SECONDS)
    except ClusterError as exc:
        print(f"mlopsctl rollout: {exc}", file=sys.stderr)
        return ERROR
    print(
        f"mlopsctl rollout: the controller has not acted on {value} within {wait_seconds:g}s (is it running?); "
        f"it will when it next reconciles {name}",
        file=sys.stderr,
    )
    return NEEDS_A_PERSON


def moot(action: str, v: render.View) -> str:
    """Why the controller would do nothing for the action now; empty when it would act."""
    if v.policy is None:
        return "spec.rollout is not set"
    phase = v.rollout.phase if v.rollout else None
    if phase in ACTS_ON[action]:
        return ""
    now = f"the rollout is {phase}" if phase else "no rollout has started"
    return f"{now}, and {action} applies to a rollout that is {_either(ACTS_ON[action])}"


def _either(phases: tuple[str, ...]) -> str:
    return ", ".join(phases[:-1]) + f" or {phases[-1]}" if len(phases) > 1 else phases[0]


def _rolling(v: render.View) -> bool:
    return v.rollout is not None and v.rollout.phase == "Progressing"


def _exit_code(v: render.View) -> int:
    return NEEDS_A_PERSON if v.rollout is not None and v.rollout.phase in ("Paused", "Aborted") else FINE
