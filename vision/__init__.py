"""Pure computation on pixels and rasters: camera activity and health from frames."""
