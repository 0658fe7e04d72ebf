"""`mlopsctl`: run the controller, generate the CRDs and docs tables, validate manifests offline."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from controller import run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlopsctl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run_command.add(commands)

    generate = commands.add_parser(
        "generate",
        aliases=["crds"],
        help="write every generated file: crds/ and the chart's copy, the Argo CD health checks, the docs' reason "
        "tables (`crds` is its older name)",
    )
    generate.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    generate.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")

    validate = commands.add_parser(
        "validate",
        help="check manifests offline for what kubectl apply and the API server would refuse; "
        "prints file:line:column: field: problem, exits 1 if any",
    )
    validate.add_argument("paths", nargs="+", type=Path, help="YAML files or folders")

    trace = commands.add_parser(
        "trace",
        help="show a resource, what it depends on and what depends on it, and whether each is Ready",
        description="Show a resource, what it depends on and what depends on it, each with Ready, Synced, reason, "
        "message and its external object (for a ServingEndpoint also each served entity's versions). "
        "Exit code: 0 when everything in the tree is Ready, 1 when something is not (or is missing), "
        "2 on a usage or API error.",
    )
    trace.add_argument("resource", help="KIND/NAME, e.g. servingendpoint/fraud-detector (or KIND NAME)")
    trace.add_argument("name", nargs="?", help=argparse.SUPPRESS)
    trace.add_argument("-n", "--namespace", help="the resource's namespace (default: the kubeconfig context's)")
    trace.add_argument("--kubeconfig", type=Path, help="kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)")
    trace.add_argument("-o", "--output", choices=["tree", "json"], default="tree", help="a tree, or JSON for tools")

    rollout = commands.add_parser(
        "rollout",
        help="show a ServingEndpoint's progressive rollout, or promote, abort or retry it",
        description="status prints the rollout: phase, versions, steps, canary weight, the analysis. promote (to "
        "the new version in full), abort (back to the stable version) and retry (a paused step, or an aborted "
        "rollout from the start) set the mlops.gitops.dev/rollout-action annotation and wait for the controller "
        "to act. Exit code: 0 when rolling, complete or no rollout; 1 when paused or aborted, or when the action "
        "does nothing now or was not acted on in time; 2 on a usage or API error.",
    )
    rollout.add_argument("action", choices=["status", "promote", "abort", "retry"])
    rollout.add_argument("name", help="the ServingEndpoint")
    rollout.add_argument("-n", "--namespace", help="its namespace (default: the kubeconfig context's)")
    rollout.add_argument("--kubeconfig", type=Path, help="kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)")
    rollout.add_argument(
        "-w",
        "--watch",
        action="store_true",
        help="status: print again at every change until the rollout completes, pauses or aborts",
    )
    rollout.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="promote/abort/retry: how long to wait for the controller to act (0: do not wait)",
    )

    importing = commands.add_parser(
        "import",
        help="write manifests that adopt a Workspace's existing models, endpoints, jobs and monitors",
        description="Read what the Workspace NAME holds (through its Secret, as the controller does) and write one "
        "manifest per asset into DIR, with a kustomization.yaml and IMPORT-REPORT.md; nothing is written to "
        "Databricks or MLflow. Exit code: 0 when every asset found was imported, 1 when some were not (the report "
        "says why), 2 on a usage error or when the cluster or the Workspace cannot be reached.",
    )
    importing.add_argument("--workspace", required=True, metavar="NAME", help="the Workspace resource to import from")
    importing.add_argument("-n", "--namespace", help="its namespace, and the manifests' (default: the context's)")
    importing.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="KIND",
        help="import only this kind (MLModel, ServingEndpoint, MLJob, ModelMonitor; repeatable; default: all the "
        "Workspace can hold)",
    )
    importing.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="PATTERN",
        help="import only assets whose name matches: a glob (main.risk.*), or a regular expression between slashes "
        "(/fraud-.*/); repeatable, any match counts",
    )
    importing.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="a new or empty folder")
    importing.add_argument(
        "--kubeconfig", type=Path, help="kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)"
    )

    plan = commands.add_parser(
        "plan",
        help="show what applying manifests would change in Databricks and MLflow (read-only)",
        description="Plan manifests with the controller's own reconcile code, reading the live state and writing "
        "nothing: per resource create, update (field by field), adopt, delete (--prune) or no changes, and what "
        "would wait. Exit code: 0 no changes, 2 changes, 1 an error (no plan, or a resource that would fail).",
    )
    plan.add_argument(
        "-f",
        "--filename",
        dest="paths",
        action="append",
        type=Path,
        required=True,
        nargs="+",
        metavar="PATH",
        help="YAML files or folders (repeatable)",
    )
    plan.add_argument("-n", "--namespace", help="namespace of manifests that name none (default: the kubeconfig's)")
    plan.add_argument("--kubeconfig", type=Path, help="kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)")
    plan.add_argument("-o", "--output", choices=["text", "markdown", "json"], default="text")
    plan.add_argument(
        "--no-cluster",
        action="store_true",
        help="read no cluster: Workspaces from the manifests, credentials from the environment (DATABRICKS_*, "
        "a ~/.databrickscfg profile, MLFLOW_TRACKING_*)",
    )
    plan.add_argument("--profile", help="with --no-cluster: the ~/.databrickscfg profile for Databricks Workspaces")
    plan.add_argument(
        "--prune",
        action="store_true",
        help="the manifests are all of each namespace they name: plan deleting the resources they leave out",
    )

    args = parser.parse_args(argv)
    if args.command == "run":
        return run_command.run(args)
    if args.command in ("generate", "crds"):
        return _generate(args.root, check=args.check)
    if args.command == "trace":
        return _trace(trace, args)
    if args.command == "rollout":
        return _rollout(args)
    if args.command == "plan":
        return _plan(args)
    if args.command == "import":
        return _import(importing, args)
    return _validate(args.paths)


def _generate(root: Path, *, check: bool) -> int:
    from controller.api import generate

    if check:
        stale = generate.stale_files(root)
        for path in stale:
            print(f"stale: {path} (run `{generate.COMMAND}`)", file=sys.stderr)
        return 1 if stale else 0
    for path in generate.write(root):
        print(f"wrote {path}")
    return 0


def _trace(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from controller.trace import command  # imports the kinds' declarations (and their SDKs): only when tracing

    try:
        ref = command.target(args.resource, args.name)
    except ValueError as exc:
        parser.error(str(exc))  # exits 2, as for any usage error
    return command.trace(ref, namespace=args.namespace, kubeconfig=args.kubeconfig, output=args.output)


def _rollout(args: argparse.Namespace) -> int:
    from controller.rollout_cli import command  # imports the Kubernetes client: only when asked

    where = {"namespace": args.namespace, "kubeconfig": args.kubeconfig}
    if args.action == "status":
        return command.status(args.name, watch=args.watch, **where)
    return command.act(args.action, args.name, wait_seconds=args.wait, **where)


def _import(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from controller.importing import command  # imports the kinds' clients and their SDKs: only when importing

    try:
        kinds = [command.kind_plural(kind) for kind in args.kind]
    except ValueError as exc:
        parser.error(str(exc))  # exits 2, as for any usage error
    return command.run_import(
        workspace=args.workspace,
        namespace=args.namespace,
        kinds=kinds,
        patterns=args.filter,
        output=args.output,
        kubeconfig=args.kubeconfig,
    )


def _plan(args: argparse.Namespace) -> int:
    from controller.plan import command  # imports the kinds' declarations and the SDKs: only when planning

    return command.run(
        [path for group in args.paths for path in group],
        output=args.output,
        kubeconfig=args.kubeconfig,
        namespace=args.namespace,
        cluster=not args.no_cluster,
        prune=args.prune,
        profile=args.profile,
    )


def _validate(paths: list[Path]) -> int:
    from controller.api import validation

    problems = validation.validate_paths(paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    logging.getLogger(__name__).debug("%d problems", len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
