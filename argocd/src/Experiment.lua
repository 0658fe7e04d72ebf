-- Experiment: the Ready and Synced conditions tell everything (an artifact location other than the spec's is
-- Degraded: it cannot change, so only a person can settle it).
return assess(obj, {})
