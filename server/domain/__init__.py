"""Business rules, free of HTTP and SQL."""
