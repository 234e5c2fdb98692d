"""Online anomaly detectors, river-shaped (`learn_one`/`score_one`) and vectorised across series.

Start with `bank.ResidualBank` (seasonal baseline, predictive residual, flatline over many series at once),
`calibration` and `likelihood` (raw surprise -> score in [0, 1], one alert per episode), `multivariate`
and `joint` (joint shift of a device's metrics), `offline` (missed reports) and `config` (which detectors
watch which category). May import numpy and `streams.records`; never the faust app or storage.
"""
