-- MLModel: the Ready and Synced conditions tell everything.
return assess(obj, {})
