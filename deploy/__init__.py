"""Deploy: how City Brain runs — the `citybrain` CLI, the embedded runner (`citybrain up`: Tansu broker,
faust worker, API + chdb sink, simulator) and, as files, compose/Kubernetes/ClickHouse-cluster config.

The runner starts the other stages as processes; it may import any package's CLI module.
"""
