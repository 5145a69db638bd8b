"""What is served over HTTP beside the API's operations: the hosted application page and the
capability links to files."""
