"""Who may do what: bearer tokens stored hashed, roles with a department/cells scope, the audit log and
rate limits. Routers reach these only through `brain_api.deps`.
"""
