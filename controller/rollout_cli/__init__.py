"""`mlopsctl rollout`: show a ServingEndpoint's progressive rollout, and promote, abort or retry it.

The controller owns the rollout; this command only reads `status.rollout` and sets the
`mlops.gitops.dev/rollout-action` annotation the controller acts on once per value.
"""
