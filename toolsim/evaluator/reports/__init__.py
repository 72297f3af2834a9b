"""Reports of scored runs: the HTML page (with its SVG charts), CSV and JSON files."""
