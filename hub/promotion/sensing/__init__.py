"""Investment sensing and evaluation (issue 10): pure analytics, no I/O.

- ``barometer``: where each leading indicator's current value ranks in its own history
  (percentile), its heat level, and a weighted composite per region and period;
- ``forecast``: next-period fixed-asset investment growth from lagged leading indicators, a
  ridge regression whose lags and penalty are chosen by rolling-origin backtest;
- ``targets``: the investment growth a GDP growth target needs, from the historical relation,
  with an inverse prediction interval;
- ``tracking``: progress of key indicators against their yearly targets, with warnings;
- ``race``: the quarterly regional race, normalised scores, weighted composite and ranks.

Every function takes plain numbers and returns frozen dataclasses, so each is tested on
hand-made series; ``hub.promotion.indicators`` reads the graph and feeds them.
"""
