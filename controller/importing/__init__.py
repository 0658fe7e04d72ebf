"""`mlopsctl import`: write manifests that adopt what a Workspace already holds, so Git can take it over."""
