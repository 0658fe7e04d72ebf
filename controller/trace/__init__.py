"""`mlopsctl trace`: a resource, what it depends on and what depends on it, with each one's readiness.

The graph comes from the kinds' own declarations (`Kind.follows`), read from the resources in the API server.
"""
