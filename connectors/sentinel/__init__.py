"""The Copernicus side of the satellite feed (``connectors.satellite``): the Sentinel Hub
Statistical API client (``client``: OAuth, quotas, retries, the per-parcel series cache), the
loopback stand-in that speaks its wire format for tests and the demo (``loopback``), and the
scene generators that give both realistic Zhejiang farmland and construction (``scenes`` for
Sentinel-2 L2A, ``landsat_scenes`` for Landsat 8/9 Collection-2 L2)."""
