"""Investment promotion: what promoters and planners read. Industry chains and their chokepoints,
the city scoreboard, statistics, indicator tracking and the sensing analytics (barometer,
forecast, target derivation, regional race). Reads the graph; no process wiring here."""
