"""Every route the emulator serves answers what Databricks' own clients read.

The checks are in contract.py, each route's contract in contract_routes.py, and the drive
that calls every route, succeeding and failing, in contract_drive.py; the emulator records
each answer. The routes come from the emulator's router, so a route added without a
contract, or never driven to a success, fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.databricks import Emulator
from sandbox.databricks.server import Exchange
from sandbox.databricks.state import Text
from tests.integration.databricks.contract import error_problems, problems
from tests.integration.databricks.contract_drive import drive_all
from tests.integration.databricks.contract_routes import ROUTES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def exchanges(server: Emulator) -> Iterator[list[Exchange]]:
    server.reset()
    with server.recording() as recorded:
        drive_all(server)
    yield list(recorded)
    server.reset()


def key(exchange: Exchange) -> str:
    return f"{exchange.method} {exchange.template}"


def test_every_route_has_a_contract(server: Emulator) -> None:
    served = {f"{route.method} {route.template}" for route in server.router.routes}
    assert not served - set(ROUTES), "routes without a contract:\n" + "\n".join(sorted(served - set(ROUTES)))
    assert not set(ROUTES) - served, "contracts of routes not served:\n" + "\n".join(sorted(set(ROUTES) - served))


def test_every_route_answers_a_call_successfully(server: Emulator, exchanges: list[Exchange]) -> None:
    served = {f"{route.method} {route.template}" for route in server.router.routes}
    answered = {key(exchange) for exchange in exchanges if exchange.status < 300}
    assert not served - answered, "routes never answered with success:\n" + "\n".join(sorted(served - answered))


def test_answers_are_what_the_clients_read(exchanges: list[Exchange]) -> None:
    found = {
        f"{key(exchange)} -> {exchange.status}: {problem}"
        for exchange in exchanges
        if exchange.template is not None and key(exchange) in ROUTES
        for problem in problems(ROUTES[key(exchange)], exchange.status, exchange.body)
    }
    assert not found, f"{len(found)} breaches of the contract:\n" + "\n".join(sorted(found))


def test_errors_carry_codes_the_sdk_maps_to_its_exceptions(exchanges: list[Exchange]) -> None:
    errors = [exchange for exchange in exchanges if exchange.status >= 400]
    assert {400, 401, 403, 404, 409, 501} <= {exchange.status for exchange in errors}
    found = {
        f"{key(exchange)} -> {exchange.status}: {problem}"
        for exchange in errors
        if exchange.template is None
        for problem in error_problems(exchange.status, exchange.body)
    }
    assert not found, "\n".join(sorted(found))


BREACHES: list[tuple[str, int, Any, str]] = [
    # The defects the issue names, as the emulator once answered them.
    ("GET /api/2.2/jobs/list", 200, {"jobs": [{"job_id": 1, "run_as_user_name": "me"}]}, "run_as_user_name: unknown"),
    ("GET /api/2.2/jobs/runs/get", 200, {"run_id": 1, "format": "MULTI_TASK"}, "body.format: unknown key"),
    ("GET /api/2.1/jobs/runs/get", 200, {"run_id": 1, "task": {}}, "body.task: unknown key"),
    ("GET /api/2.0/serving-endpoints", 200, {"endpoints": []}, "body.endpoints: empty array"),
    ("GET /api/2.0/serving-endpoints/{name}", 200, {"state": {"ready": "SORT_OF"}}, "no EndpointStateReady value"),
    ("GET /api/2.0/serving-endpoints/{name}", 200, {"name": None}, "body.name: null"),
    ("GET /api/2.2/jobs/get", 200, {"job_id": "1"}, "where the SDK expects int"),
    ("POST /api/2.2/jobs/reset", 200, {"job_id": 1}, "where the SDK expects {}"),
    ("GET /api/2.0/mlflow/unity-catalog/model-versions/get", 200, {"model_version": {"x": 1}}, 'no field named "x"'),
    ("POST /oidc/v1/token", 200, {"access_token": "t", "token_type": "Bearer"}, "body.expires_in: the SDK needs"),
    ("POST /oidc/v1/token", 401, {"error": "wrong_secret"}, "not an OAuth error"),
    ("GET /api/2.2/jobs/get", 404, {"error_code": "NO_SUCH_JOB", "message": "m"}, "no ErrorCode the SDK declares"),
    ("GET /api/2.2/jobs/get", 400, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "m"}, "which is no BadRequest"),
    ("GET /api/2.2/jobs/get", 502, {"error_code": "BAD_GATEWAY", "message": "m"}, "no typed exception"),
    ("GET /api/2.2/jobs/get", 400, {"error": "bad"}, "is not {error_code, message}"),
    ("GET /api/2.0/serving-endpoints/{name}/metrics", 200, {"contents": "x 1"}, "is not text/plain"),
    ("GET /api/2.0/serving-endpoints/{name}/metrics", 200, Text('x{a="1" 1', "text/plain"), "not Prometheus text"),
]


@pytest.mark.parametrize(("route", "status", "body", "expected"), BREACHES)
def test_the_checks_catch_each_kind_of_breach(route: str, status: int, body: Any, expected: str) -> None:
    found = list(problems(ROUTES[route], status, body))
    assert any(expected in problem for problem in found), found


def test_older_jobs_versions_may_show_what_they_still_have() -> None:
    single_task = {"settings": {"name": "j", "notebook_task": {"notebook_path": "/n"}, "existing_cluster_id": "c"}}
    assert list(problems(ROUTES["GET /api/2.0/jobs/get"], 200, single_task)) == []
    run = {"run_id": 1, "format": "SINGLE_TASK", "task": {"notebook_task": {"notebook_path": "/n"}}}
    assert list(problems(ROUTES["GET /api/2.0/jobs/runs/get"], 200, run)) == []
    assert list(problems(ROUTES["GET /api/2.1/jobs/runs/get"], 200, {"run_id": 1, "format": "MULTI_TASK"})) == []
