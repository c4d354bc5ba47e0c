"""City councils and school boards: meeting sources' parsers (pure functions) and their diff."""
