"""Map layers for the live map: H3 cells (status, open incidents, heat) and server-side device clusters.

Start at `cells.cell_layer` and `devices.device_layer`; `viewport` bounds the payload, `status` derives
normal/warning/alert from open alerts, `bench.bench_map` measures them over 100,000 devices.
"""
