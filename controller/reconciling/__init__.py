"""The one frame every kind's reconcile stands on.

- `errors`: how each client error class ends (condition reason, retry) — the same for every kind.
- `run`: the state of one reconcile (notes, problems, waits, drift) and the one way to build its Outcome.
- `ownership`: the tags that name the resource owning an external object, and claim/adopt.
- `policy`: the deletionPolicy and ObserveOnly gates.

Nothing here imports kopf or an SDK: a kind's reconcile stays unit-testable with plain fakes.
"""
