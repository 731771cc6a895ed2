"""One module per entity of the model: its GraphQL type, where, sort, input and connection."""
