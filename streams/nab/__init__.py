"""NAB: run the streaming detectors over a Numenta Anomaly Benchmark folder and score them.

`corpus` reads NAB-format CSVs and label windows, `runner` scores every file strictly online with the
same `streams.detectors` code the worker uses, `scoring` implements the published NAB scoring rules.
May import `streams.detectors`; nothing in the worker imports this package.
"""
